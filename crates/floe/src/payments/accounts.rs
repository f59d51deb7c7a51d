//! Which processor an organization's checkouts use: the built-in test processor (the
//! default, no account needed) or Stripe with the merchant's own keys. Set by the operator
//! (`floe organization processor`), read at each confirmation, so switching needs no
//! rebuild or restart. Stripe's secret key and webhook secret are sealed at rest with a key
//! derived from the server's secret (AES-256-GCM): the database alone does not give them
//! away.

use base64::Engine;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DbErr};

use crate::auth::ServerSecret;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "processor_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub created_at: DateTimeUtc,
    pub modified_at: Option<DateTimeUtc>,
    pub processor: String,
    pub stripe_secret_key: Option<String>,
    pub stripe_webhook_secret: Option<String>,
    pub stripe_publishable_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod customer {
    //! `processor_customers`: the processor's customer for a floe customer.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
    #[sea_orm(table_name = "processor_customers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub processor: String,
        pub processor_customer_id: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The processor an organization uses, with what it needs.
#[derive(Clone, Debug)]
pub enum Account {
    Test,
    Stripe(StripeKeys),
}

#[derive(Clone, Debug)]
pub struct StripeKeys {
    pub secret_key: String,
    pub webhook_secret: String,
    pub publishable_key: Option<String>,
}

const PURPOSE: &str = "processor-credentials";

fn key(secret: &ServerSecret) -> Option<LessSafeKey> {
    let bytes = secret.sign(PURPOSE, b"aes-256-gcm");
    Some(LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &bytes).ok()?,
    ))
}

/// `base64(nonce ‖ ciphertext ‖ tag)`.
pub fn seal(secret: &ServerSecret, plain: &str) -> anyhow::Result<String> {
    let key = key(secret).ok_or_else(|| anyhow::anyhow!("no sealing key"))?;
    let nonce_bytes: [u8; 12] = rand::random();
    let mut data = plain.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce_bytes),
        Aad::empty(),
        &mut data,
    )
    .map_err(|_| anyhow::anyhow!("sealing failed"))?;
    let mut out = nonce_bytes.to_vec();
    out.extend(data);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

pub fn open(secret: &ServerSecret, sealed: &str) -> Option<String> {
    let key = key(secret)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, data) = bytes.split_at(12);
    let mut data = data.to_vec();
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let plain = key.open_in_place(nonce, Aad::empty(), &mut data).ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// The account of `organization_id` (the test processor when none was set).
/// Whether no real money moves for `organization_id`: the test processor, or Stripe with a
/// test-mode key. Only such an organization may move its clock.
pub async fn is_test_mode(
    db: &impl ConnectionTrait,
    secret: &ServerSecret,
    organization_id: Uuid,
) -> Result<bool, DbErr> {
    Ok(match of(db, secret, organization_id).await? {
        Account::Test => true,
        Account::Stripe(keys) => {
            keys.secret_key.starts_with("sk_test_") || keys.secret_key.starts_with("rk_test_")
        }
    })
}

pub async fn of(
    db: &impl ConnectionTrait,
    secret: &ServerSecret,
    organization_id: Uuid,
) -> Result<Account, DbErr> {
    let Some(row) = Entity::find_by_id(organization_id).one(db).await? else {
        return Ok(Account::Test);
    };
    if row.processor != "stripe" {
        return Ok(Account::Test);
    }
    let secret_key = row
        .stripe_secret_key
        .as_deref()
        .and_then(|s| open(secret, s));
    let webhook_secret = row
        .stripe_webhook_secret
        .as_deref()
        .and_then(|s| open(secret, s));
    match (secret_key, webhook_secret) {
        (Some(secret_key), Some(webhook_secret)) => Ok(Account::Stripe(StripeKeys {
            secret_key,
            webhook_secret,
            publishable_key: row.stripe_publishable_key,
        })),
        // Keys sealed with another server secret cannot be used: refuse to charge rather
        // than fall back to the test processor.
        _ => Err(DbErr::Custom(format!(
            "the Stripe keys of organization {organization_id} cannot be unsealed with this server's secret"
        ))),
    }
}

/// Sets the processor of `organization_id` (the operator's CLI).
pub async fn set(
    db: &impl ConnectionTrait,
    secret: &ServerSecret,
    organization_id: Uuid,
    account: &Account,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let existing = Entity::find_by_id(organization_id).one(db).await?;
    let row = match account {
        Account::Test => Model {
            organization_id,
            created_at: now,
            modified_at: None,
            processor: "test".to_owned(),
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            stripe_publishable_key: None,
        },
        Account::Stripe(keys) => Model {
            organization_id,
            created_at: now,
            modified_at: None,
            processor: "stripe".to_owned(),
            stripe_secret_key: Some(seal(secret, &keys.secret_key)?),
            stripe_webhook_secret: Some(seal(secret, &keys.webhook_secret)?),
            stripe_publishable_key: keys.publishable_key.clone(),
        },
    };
    match existing {
        Some(old) => {
            let row = Model {
                created_at: old.created_at,
                modified_at: Some(now),
                ..row
            };
            crate::db::rows::update::<Entity>(db, row).await?;
        }
        None => {
            crate::db::rows::insert::<Entity>(db, row).await?;
        }
    }
    Ok(())
}

/// The processor's customer for `customer_id`, if one was made.
pub async fn processor_customer(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    processor: &str,
) -> Result<Option<String>, DbErr> {
    Ok(
        customer::Entity::find_by_id((customer_id, processor.to_owned()))
            .one(db)
            .await?
            .map(|row| row.processor_customer_id),
    )
}

/// Remembers the processor's customer for `customer_id` (once).
pub async fn remember_customer(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    processor: &str,
    processor_customer_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    if processor_customer(db, customer_id, processor)
        .await?
        .is_some()
    {
        return Ok(());
    }
    crate::db::rows::insert::<customer::Entity>(
        db,
        customer::Model {
            customer_id,
            processor: processor.to_owned(),
            processor_customer_id: processor_customer_id.to_owned(),
            created_at: now,
        },
    )
    .await
    .map(|_| ())
}

/// The Stripe customer of floe's `customer`: the one made before, else a new one (made once
/// per floe customer, and remembered).
pub async fn stripe_customer(
    app: &crate::app::AppState,
    stripe: &super::stripe::Client,
    customer: &crate::customers::CustomerRow,
) -> Result<String, super::stripe::Failure> {
    use super::stripe::{Failure, STRIPE};
    let known = processor_customer(&app.db, customer.id, STRIPE)
        .await
        .map_err(|e| Failure::Unanswered(e.to_string()))?;
    if let Some(known) = known {
        return Ok(known);
    }
    let made = stripe
        .create_customer(
            customer.email.as_deref(),
            customer.name.as_deref(),
            &customer.id.to_string(),
        )
        .await?;
    let remembered = remember_customer(&app.db, customer.id, STRIPE, &made, app.clock.now()).await;
    if let Err(error) = remembered {
        tracing::warn!(%error, "the Stripe customer could not be remembered");
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_secret() {
        let secret = ServerSecret::new(vec![7u8; 32]);
        let sealed = seal(&secret, "sk_test_123").unwrap_or_default();
        assert!(!sealed.contains("sk_test"));
        assert_eq!(open(&secret, &sealed).as_deref(), Some("sk_test_123"));
        assert_eq!(open(&ServerSecret::new(vec![8u8; 32]), &sealed), None);
        assert_ne!(seal(&secret, "sk_test_123").unwrap_or_default(), sealed);
    }
}
