//! The route table as data: each domain registers its operations one method at a time, and
//! floe keeps the list of what it serves beside axum's router. `floe routes` prints it, and
//! the contract sweep (tests/sdk/python/sweep) reads it to fuzz, tenancy-check and scope-check every
//! operation floe routes, so an operation is covered the day it is added.

use axum::Router;
use axum::handler::Handler;
use axum::routing::MethodRouter;
use serde::Serialize;

use crate::app::AppState;

/// One served operation: an HTTP method and axum's path template (`/v1/files/{id}`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

/// `Routes::get(path, handler)` and its siblings, one per HTTP method.
macro_rules! methods {
    ($($method:ident => $name:literal),* $(,)?) => {
        $(
            #[doc = concat!("Serves `", $name, " path` with `handler`.")]
            pub fn $method<H, T>(self, path: &'static str, handler: H) -> Self
            where
                H: Handler<T, AppState>,
                T: 'static,
            {
                self.add($name, path, axum::routing::$method(handler))
            }
        )*
    };
}

/// A router that remembers what it routes.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    served: Vec<Route>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    methods! {
        get => "GET",
        post => "POST",
        put => "PUT",
        patch => "PATCH",
        delete => "DELETE",
    }

    /// Another domain's routes beside these.
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.served.extend(other.served);
        self
    }

    /// What is served, sorted by path then method.
    pub fn served(&self) -> Vec<Route> {
        let mut served = self.served.clone();
        served.sort_by(|a, b| (a.path, a.method).cmp(&(b.path, b.method)));
        served
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Self {
        // axum merges the methods of one path registered in several calls.
        self.router = self.router.route(path, handler);
        self.served.push(Route { method, path });
        self
    }
}
