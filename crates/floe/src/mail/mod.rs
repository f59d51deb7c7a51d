//! Outgoing mail (decision 0020): one component for every message floe sends (seat
//! invitations, payment-failure notices; receipts and portal sign-in codes later).
//!
//! A message is queued in the transaction of the change it tells about (`queue`), so a
//! crash never loses one, and sent by the mail worker (`worker`): through the SMTP server
//! of `--smtp-url` (`smtp://user:pass@host:587?tls=required` for STARTTLS, `smtps://…` for
//! TLS, plain `smtp://host:25` for a relay on the same machine), or,
//! with no SMTP server configured, written as an `.eml` file under `{data_dir}/mail/` with
//! its path logged, so the default needs nothing. Each message's `Message-ID` is derived
//! from its row, so a message sent again after a crash can be recognised by the receiver.

mod entity;
pub mod worker;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use uuid::Uuid;

pub use entity::Model as MailRow;

/// How mail leaves floe.
#[derive(Clone, Debug, Default)]
pub struct MailConfig {
    /// `smtp://…` or `smtps://…`; `None` writes `.eml` files.
    pub smtp_url: Option<String>,
    /// The sender, e.g. `Acme billing <billing@acme.test>`.
    pub from: String,
}

/// A message to send.
pub struct Mail<'a> {
    /// What it is: `payment_failed`, `seat_invitation`, …
    pub kind: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Queues `mail` in `txn`; the mail worker sends it after the commit.
pub async fn queue(
    txn: &impl ConnectionTrait,
    organization_id: Option<Uuid>,
    mail: Mail<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let id = Uuid::new_v4();
    entity::Entity::insert(entity::ActiveModel {
        id: Set(id),
        created_at: Set(now),
        organization_id: Set(organization_id),
        kind: Set(mail.kind.to_owned()),
        recipient: Set(mail.to.to_owned()),
        subject: Set(mail.subject.to_owned()),
        body: Set(mail.body.to_owned()),
        // Due in real time (a test clock's time may be ahead).
        next_attempt_at: Set(now.min(Utc::now())),
        attempts: Set(0),
        claimed_until: Set(None),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(id)
}

/// Where messages go.
#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Files {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
        from: Mailbox,
    },
}

impl Mailer {
    /// The mailer `config` describes; files go under `data_dir/mail`.
    pub fn new(config: &MailConfig, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("--mail-from {:?}: {e}", config.from))?;
        Ok(match &config.smtp_url {
            Some(url) => Self::Smtp {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))?
                    .build(),
                from,
            },
            None => {
                let dir = data_dir.join("mail");
                std::fs::create_dir_all(&dir)?;
                Self::Files {
                    transport: AsyncFileTransport::new(&dir),
                    dir,
                    from,
                }
            }
        })
    }

    /// Sends one queued message; where it went (a file's path, or the SMTP server's answer).
    pub async fn send(&self, row: &MailRow) -> Result<String, String> {
        let from = match self {
            Self::Smtp { from, .. } | Self::Files { from, .. } => from.clone(),
        };
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| format!("recipient {:?}: {e}", row.recipient))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(format!("<{}@floe>", row.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(row.body.clone())
            .map_err(|e| e.to_string())?;
        match self {
            Self::Smtp { transport, .. } => transport
                .send(message)
                .await
                .map(|answer| format!("smtp {}", answer.code()))
                .map_err(|e| e.to_string()),
            Self::Files { transport, dir, .. } => transport
                .send(message)
                .await
                .map(|id| dir.join(format!("{id}.eml")).display().to_string())
                .map_err(|e| e.to_string()),
        }
    }
}
