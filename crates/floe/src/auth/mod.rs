//! Who is calling: access tokens (format, hashing, storage), scopes, and the
//! [`Authorized`] extractor every endpoint starts with.

mod cache;
mod entity;
mod scope;
mod secret;
pub mod store;
mod subject;
pub mod token;

pub use cache::TokenCache;
pub use scope::Scope;
pub use secret::ServerSecret;
pub use subject::{AuthSubject, Authorized, RequiredScopes, authenticate_headers, bearer_token};
pub use token::SecretToken;
