//! Wire types of the orders API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::address::Address;
use crate::customers::schema::Customer;
use crate::http::pagination::{QueryEnum, SortProperty};
use crate::http::patch;
use crate::products::schema::ProductBase;

/// `OrderStatus`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Draft,
    Pending,
    Paid,
    Refunded,
    PartiallyRefunded,
    Void,
}

impl OrderStatus {
    pub const ALL: [Self; 6] = [
        Self::Draft,
        Self::Pending,
        Self::Paid,
        Self::Refunded,
        Self::PartiallyRefunded,
        Self::Void,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Void => "void",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl QueryEnum for OrderStatus {
    const NAMES: &'static [&'static str] = &[
        "draft",
        "pending",
        "paid",
        "refunded",
        "partially_refunded",
        "void",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::parse(name)
    }
}

/// `ProductBillingType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillingType {
    OneTime,
    Recurring,
}

impl QueryEnum for BillingType {
    const NAMES: &'static [&'static str] = &["one_time", "recurring"];

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "one_time" => Some(Self::OneTime),
            "recurring" => Some(Self::Recurring),
            _ => None,
        }
    }
}

/// `OrderItemSchema`.
#[derive(Clone, Debug, Serialize)]
pub struct OrderItem {
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub label: String,
    pub amount: i64,
    pub tax_amount: i64,
    pub proration: bool,
    pub product_price_id: Option<Uuid>,
    /// The period the line covers (the SDK has them; none for a purchase).
    pub start_timestamp: Option<DateTime<Utc>>,
    pub end_timestamp: Option<DateTime<Utc>>,
}

/// `Order`.
#[derive(Clone, Debug, Serialize)]
pub struct Order {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub modified_at: Option<DateTime<Utc>>,
    pub status: OrderStatus,
    pub paid: bool,
    pub subtotal_amount: i64,
    pub discount_amount: i64,
    pub net_amount: i64,
    pub tax_amount: i64,
    pub total_amount: i64,
    pub applied_balance_amount: i64,
    pub due_amount: i64,
    pub refunded_amount: i64,
    pub refunded_tax_amount: i64,
    pub currency: String,
    pub billing_reason: String,
    pub billing_name: Option<String>,
    pub billing_address: Option<Address>,
    pub invoice_number: Option<String>,
    pub is_invoice_generated: bool,
    pub receipt_number: Option<String>,
    pub seats: Option<i64>,
    /// The SDK's units of a unit-priced purchase.
    pub units: Option<i64>,
    pub customer_id: Uuid,
    pub product_id: Option<Uuid>,
    pub discount_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    pub checkout_id: Option<Uuid>,
    pub next_payment_attempt_at: Option<DateTime<Utc>>,
    pub metadata: Map<String, Value>,
    pub custom_field_data: Map<String, Value>,
    pub platform_fee_amount: i64,
    pub platform_fee_currency: Option<String>,
    pub customer: Customer,
    pub product: Option<ProductBase>,
    /// The discount without its products (`DiscountBase`).
    pub discount: Option<Value>,
    pub subscription: Option<Value>,
    pub items: Vec<OrderItem>,
    pub description: String,
    pub refundable_amount: i64,
    pub refundable_tax_amount: i64,
}

/// `OrderUpdate`: the billing details shown on the invoice.
#[derive(Debug, Deserialize)]
pub struct OrderUpdate {
    #[serde(default, deserialize_with = "patch::field")]
    pub billing_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    pub billing_address: Option<Option<Address>>,
}

/// `OrderSortProperty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderSortProperty {
    CreatedAt,
    Status,
    InvoiceNumber,
    Amount,
    NetAmount,
    Customer,
    Product,
    Discount,
    Subscription,
}

impl SortProperty for OrderSortProperty {
    const NAMES: &'static [&'static str] = &[
        "created_at",
        "status",
        "invoice_number",
        "amount",
        "net_amount",
        "customer",
        "product",
        "discount",
        "subscription",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => Self::CreatedAt,
            "status" => Self::Status,
            "invoice_number" => Self::InvoiceNumber,
            "amount" => Self::Amount,
            "net_amount" => Self::NetAmount,
            "customer" => Self::Customer,
            "product" => Self::Product,
            "discount" => Self::Discount,
            "subscription" => Self::Subscription,
            _ => return None,
        })
    }
}

/// `OrderInvoice`: where to download the invoice PDF (a signed URL that expires).
#[derive(Clone, Debug, Serialize)]
pub struct OrderInvoice {
    pub url: String,
}

/// `OrderReceipt`: where to download the receipt PDF (a signed URL that expires).
#[derive(Clone, Debug, Serialize)]
pub struct OrderReceipt {
    pub url: String,
}

/// `OrderExportColumn`: a column of the orders CSV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderExportColumn {
    Email,
    CreatedAt,
    Product,
    NetAmount,
    Currency,
    Status,
    InvoiceNumber,
    CustomerName,
    BillingName,
    BillingCountry,
    SubtotalAmount,
    DiscountAmount,
    TaxAmount,
    TotalAmount,
    RefundedAmount,
    BillingReason,
}

impl OrderExportColumn {
    /// In the enum's order.
    pub const ALL: [Self; 16] = [
        Self::Email,
        Self::CreatedAt,
        Self::Product,
        Self::NetAmount,
        Self::Currency,
        Self::Status,
        Self::InvoiceNumber,
        Self::CustomerName,
        Self::BillingName,
        Self::BillingCountry,
        Self::SubtotalAmount,
        Self::DiscountAmount,
        Self::TaxAmount,
        Self::TotalAmount,
        Self::RefundedAmount,
        Self::BillingReason,
    ];

    /// What the export has without `columns`: the contract names these seven.
    pub const DEFAULT: [Self; 7] = [
        Self::Email,
        Self::CreatedAt,
        Self::Product,
        Self::NetAmount,
        Self::Currency,
        Self::Status,
        Self::InvoiceNumber,
    ];

    /// The column's heading in the CSV, as Polar writes it.
    pub fn heading(self) -> &'static str {
        match self {
            Self::Email => "Email",
            Self::CreatedAt => "Created At",
            Self::Product => "Product",
            Self::NetAmount => "Net Amount",
            Self::Currency => "Currency",
            Self::Status => "Status",
            Self::InvoiceNumber => "Invoice number",
            Self::CustomerName => "Customer Name",
            Self::BillingName => "Billing Name",
            Self::BillingCountry => "Billing Country",
            Self::SubtotalAmount => "Subtotal",
            Self::DiscountAmount => "Discount",
            Self::TaxAmount => "Tax",
            Self::TotalAmount => "Total",
            Self::RefundedAmount => "Refunded Amount",
            Self::BillingReason => "Billing Reason",
        }
    }
}

impl QueryEnum for OrderExportColumn {
    const NAMES: &'static [&'static str] = &[
        "email",
        "created_at",
        "product",
        "net_amount",
        "currency",
        "status",
        "invoice_number",
        "customer_name",
        "billing_name",
        "billing_country",
        "subtotal_amount",
        "discount_amount",
        "tax_amount",
        "total_amount",
        "refunded_amount",
        "billing_reason",
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|index| Self::ALL.get(index).copied())
    }
}
