//! Wire types of wallets: `Wallet` (the merchant's view) and `CustomerWallet` (the
//! customer's) have the same fields.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::entity::wallet::Model;
use crate::http::pagination::SortProperty;

/// `Wallet` and `CustomerWallet`.
#[derive(Clone, Debug, Serialize)]
pub struct Wallet {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub customer_id: Uuid,
    pub balance: i64,
    pub currency: String,
}

impl From<&Model> for Wallet {
    fn from(row: &Model) -> Self {
        Self {
            id: row.id,
            created_at: row.created_at,
            modified_at: row.modified_at,
            customer_id: row.customer_id,
            balance: row.balance,
            currency: row.currency.clone(),
        }
    }
}

/// `WalletSortProperty` and `CustomerWalletSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    CreatedAt,
    Balance,
}

impl SortProperty for SortBy {
    const NAMES: &'static [&'static str] = &["created_at", "balance"];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "balance" => Self::Balance,
            _ => return None,
        })
    }
}
