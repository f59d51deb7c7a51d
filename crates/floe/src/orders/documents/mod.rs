//! An order's documents: its invoice and its receipt as PDFs in the private bucket.
//!
//! Asking for one records it as due in `order_documents` (in the request's transaction),
//! then a task spawned after the commit draws and stores it; the [`worker`]'s sweep takes
//! whatever is still due (after a failure, or a restart that cut a task short). See
//! docs/decisions/0016-order-documents.md.

mod content;
mod entity;
pub mod pdf;
pub mod routes;
pub mod service;
mod store;
pub mod worker;

/// Which document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Invoice,
    Receipt,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Receipt => "receipt",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Invoice, Self::Receipt]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// The name the download is saved under, as Polar names it.
    fn filename(self, number: &str) -> String {
        match self {
            Self::Invoice => format!("Invoice-{number}.pdf"),
            Self::Receipt => format!("Receipt-{number}.pdf"),
        }
    }
}
