//! The body each endpoint format gets. `raw` is the event itself, `{"type", "timestamp",
//! "data"}`. `discord` and `slack` get a short message for the events a person in a chat
//! channel cares about (a customer arriving, changing or leaving; the organization's
//! settings changing; a sale; a benefit granted); the others, like the machine-oriented
//! `customer.state_changed`, are not sent to chat endpoints at all.

use serde_json::{Value, json};

use super::schema::{EventType, WebhookFormat};

/// The body to send to an endpoint of `format`, or `None` when that format skips the event.
pub fn render(
    format: WebhookFormat,
    kind: EventType,
    raw: &Value,
    organization_name: &str,
) -> Option<String> {
    match format {
        WebhookFormat::Raw => Some(raw.to_string()),
        WebhookFormat::Discord => {
            let (title, details) = message(kind, &raw["data"])?;
            Some(
                json!({
                    "content": title,
                    "embeds": [{
                        "title": title,
                        "description": details,
                        "color": 0x0062ff,
                        "fields": [
                            {"name": "Organization", "value": organization_name},
                            {"name": "Object", "value": raw["data"]["id"]},
                        ],
                        "footer": {"text": "floe"},
                    }],
                })
                .to_string(),
            )
        }
        WebhookFormat::Slack => {
            let (title, details) = message(kind, &raw["data"])?;
            Some(
                json!({
                    "text": title,
                    "blocks": [{
                        "type": "section",
                        "text": {"type": "mrkdwn", "text": format!("*{title}*\n{details}")},
                        "fields": [
                            {"type": "mrkdwn", "text": format!("*Organization*\n{organization_name}")},
                            {"type": "mrkdwn", "text": format!("*Object*\n{}", text(&raw["data"]["id"]))},
                        ],
                    }],
                })
                .to_string(),
            )
        }
    }
}

/// A title and one line of details, for the events that have a human message.
fn message(kind: EventType, data: &Value) -> Option<(String, String)> {
    let who = || {
        let email = text(&data["email"]);
        match data["name"].as_str() {
            Some(name) if !email.is_empty() => format!("{name} <{email}>"),
            Some(name) => name.to_owned(),
            None if !email.is_empty() => email,
            None => text(&data["id"]),
        }
    };
    Some(match kind {
        EventType::CustomerCreated => ("New customer".to_owned(), who()),
        EventType::CustomerUpdated => ("Customer updated".to_owned(), who()),
        EventType::CustomerDeleted => ("Customer deleted".to_owned(), who()),
        EventType::OrganizationUpdated => (
            "Organization updated".to_owned(),
            format!("{} ({})", text(&data["name"]), text(&data["slug"])),
        ),
        EventType::BenefitCreated => ("New benefit".to_owned(), text(&data["description"])),
        EventType::BenefitUpdated => ("Benefit updated".to_owned(), text(&data["description"])),
        EventType::BenefitGrantCreated => ("Benefit granted".to_owned(), grant_line(data)),
        EventType::BenefitGrantUpdated => ("Benefit grant updated".to_owned(), grant_line(data)),
        EventType::BenefitGrantRevoked => ("Benefit revoked".to_owned(), grant_line(data)),
        EventType::ProductCreated => ("New product".to_owned(), text(&data["name"])),
        EventType::ProductUpdated => ("Product updated".to_owned(), text(&data["name"])),
        EventType::DiscountCreated => ("New discount".to_owned(), text(&data["name"])),
        EventType::DiscountUpdated => ("Discount updated".to_owned(), text(&data["name"])),
        EventType::DiscountDeleted => ("Discount deleted".to_owned(), text(&data["name"])),
        EventType::CheckoutCreated
        | EventType::CheckoutUpdated
        | EventType::CheckoutExpired
        | EventType::CustomerStateChanged => return None,
        EventType::OrderCreated => ("New order".to_owned(), order_line(data)),
        EventType::OrderPaid => ("Order paid".to_owned(), order_line(data)),
        EventType::OrderUpdated => ("Order updated".to_owned(), order_line(data)),
        EventType::OrderRefunded => ("Order refunded".to_owned(), order_line(data)),
        EventType::RefundCreated => ("New refund".to_owned(), refund_line(data)),
        EventType::RefundUpdated => ("Refund updated".to_owned(), refund_line(data)),
        EventType::BenefitGrantCycled => ("Benefit renewed".to_owned(), grant_line(data)),
        EventType::CustomerSeatAssigned => ("Seat assigned".to_owned(), text(&data["email"])),
        EventType::CustomerSeatClaimed => {
            ("Seat claimed".to_owned(), text(&data["customer_email"]))
        }
        EventType::CustomerSeatRevoked => ("Seat revoked".to_owned(), text(&data["id"])),
        EventType::MemberCreated => ("New member".to_owned(), who()),
        EventType::MemberUpdated => ("Member updated".to_owned(), who()),
        EventType::MemberDeleted => ("Member removed".to_owned(), who()),
        EventType::SubscriptionCreated => ("New subscription".to_owned(), subscription_line(data)),
        EventType::SubscriptionUpdated => {
            ("Subscription updated".to_owned(), subscription_line(data))
        }
        EventType::SubscriptionActive => {
            ("Subscription active".to_owned(), subscription_line(data))
        }
        EventType::SubscriptionCanceled => {
            ("Subscription canceled".to_owned(), subscription_line(data))
        }
        EventType::SubscriptionUncanceled => (
            "Subscription uncanceled".to_owned(),
            subscription_line(data),
        ),
        EventType::SubscriptionCycled => {
            ("Subscription renewed".to_owned(), subscription_line(data))
        }
        EventType::SubscriptionRevoked => {
            ("Subscription revoked".to_owned(), subscription_line(data))
        }
        EventType::SubscriptionPastDue => {
            ("Subscription past due".to_owned(), subscription_line(data))
        }
        EventType::SubscriptionPaused => {
            ("Subscription paused".to_owned(), subscription_line(data))
        }
        EventType::SubscriptionResumed => {
            ("Subscription resumed".to_owned(), subscription_line(data))
        }
    })
}

/// "Pro plan — 19.00 USD every month (buyer@example.com)".
fn subscription_line(data: &Value) -> String {
    let amount = data["amount"].as_i64().unwrap_or(0);
    let currency = text(&data["currency"]);
    format!(
        "{} — {} every {} ({})",
        text(&data["product"]["name"]),
        crate::money::display(amount, &currency),
        text(&data["recurring_interval"]),
        text(&data["customer"]["email"])
    )
}

/// "Pro plan — 19.00 USD (buyer@example.com)".
fn order_line(data: &Value) -> String {
    let amount = data["total_amount"].as_i64().unwrap_or(0);
    let currency = text(&data["currency"]);
    format!(
        "{} — {} ({})",
        text(&data["description"]),
        crate::money::display(amount, &currency),
        text(&data["customer"]["email"])
    )
}

/// "10.00 USD — customer_request (succeeded)".
fn refund_line(data: &Value) -> String {
    let amount = data["amount"].as_i64().unwrap_or(0) + data["tax_amount"].as_i64().unwrap_or(0);
    format!(
        "{} — {} ({})",
        crate::money::display(amount, &text(&data["currency"])),
        text(&data["reason"]),
        text(&data["status"])
    )
}

/// "License key — buyer@example.com", or the reason a grant failed.
fn grant_line(data: &Value) -> String {
    let line = format!(
        "{} — {}",
        text(&data["benefit"]["description"]),
        text(&data["customer"]["email"])
    );
    match data["error"]["message"].as_str() {
        Some(error) => format!("{line} (not granted: {error})"),
        None => line,
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_formats_skip_state_changes() {
        let raw = json!({"type": "customer.created", "timestamp": "t", "data": {"id": "c1", "email": "a@b.co", "name": "Ada"}});
        assert!(
            render(
                WebhookFormat::Discord,
                EventType::CustomerStateChanged,
                &raw,
                "Acme"
            )
            .is_none()
        );
        assert!(
            render(
                WebhookFormat::Slack,
                EventType::CustomerStateChanged,
                &raw,
                "Acme"
            )
            .is_none()
        );
        let discord = render(
            WebhookFormat::Discord,
            EventType::CustomerCreated,
            &raw,
            "Acme",
        )
        .unwrap_or_default();
        assert!(discord.contains("Ada <a@b.co>"), "{discord}");
        let slack = render(
            WebhookFormat::Slack,
            EventType::CustomerCreated,
            &raw,
            "Acme",
        )
        .unwrap_or_default();
        assert!(slack.contains("New customer"), "{slack}");
        let grant = json!({"type": "benefit_grant.created", "timestamp": "t", "data": {"id": "g1",
            "benefit": {"description": "Source access"}, "customer": {"email": "a@b.co"},
            "error": {"message": "no GitHub", "type": "X", "timestamp": "t"}}});
        let slack = render(
            WebhookFormat::Slack,
            EventType::BenefitGrantCreated,
            &grant,
            "Acme",
        )
        .unwrap_or_default();
        assert!(
            slack.contains("Source access — a@b.co (not granted: no GitHub)"),
            "{slack}"
        );
        assert_eq!(
            render(
                WebhookFormat::Raw,
                EventType::CustomerStateChanged,
                &raw,
                "Acme"
            ),
            Some(raw.to_string())
        );
    }
}
