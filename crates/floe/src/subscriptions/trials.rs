//! One trial per customer and product (decision 0019). Polar's rule (an opt-in organization
//! setting) matches the customer's email without its `+alias`; floe applies it always, per
//! product: a checkout with a trial is refused (403 `TrialAlreadyRedeemed`) when a
//! subscription to the same product already had a trial for the same customer, or for a
//! customer of the organization whose email is the same once lowercased and un-aliased.

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::entity::{Column, Entity};
use crate::customers::CustomerRow;

/// `email` lowercased, without a `+alias` in its local part: `(local, domain)`.
fn unaliased(email: &str) -> Option<(String, String)> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.rsplit_once('@')?;
    let local = local.split_once('+').map_or(local, |(base, _)| base);
    Some((local.to_owned(), domain.to_owned()))
}

/// `text` with LIKE's wildcards taken literally (escaped with `\`).
fn literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Whether `customer` (or someone with the same email) already had a trial of `product_id`.
pub async fn already_redeemed(
    txn: &impl ConnectionTrait,
    organization_id: Uuid,
    product_id: Uuid,
    customer: &CustomerRow,
) -> Result<bool, DbErr> {
    use crate::customers::entity::{Column as C, Entity as Customers};
    let mut same = Condition::any().add(C::Id.eq(customer.id));
    if let Some((local, domain)) = customer.email.as_deref().and_then(unaliased) {
        same =
            same.add(C::EmailKey.eq(format!("{local}@{domain}")))
                .add(
                    Expr::col(C::EmailKey).like(
                        LikeExpr::new(format!("{}+%@{}", literal(&local), literal(&domain)))
                            .escape('\\'),
                    ),
                );
    }
    let customers: Vec<Uuid> = Customers::find()
        .select_only()
        .column(C::Id)
        .filter(C::OrganizationId.eq(organization_id))
        .filter(same)
        .into_tuple()
        .all(txn)
        .await?;
    let found = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::OrganizationId.eq(organization_id))
        .filter(Column::ProductId.eq(product_id))
        .filter(Column::TrialStart.is_not_null())
        .filter(Column::CustomerId.is_in(customers))
        .into_tuple::<Uuid>()
        .one(txn)
        .await?;
    Ok(found.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_case_do_not_make_a_new_customer() {
        assert_eq!(
            unaliased("Ada+Trial2@Example.com"),
            Some(("ada".into(), "example.com".into()))
        );
        assert_eq!(unaliased("no-at-sign"), None);
        assert_eq!(literal("a_b%c"), "a\\_b\\%c");
    }
}
