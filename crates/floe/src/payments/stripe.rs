//! The Stripe adapter: the few Stripe API calls a sale needs, made with the merchant's own
//! secret key, each with an `Idempotency-Key` (a retried call is one call at Stripe), and
//! the verification of Stripe's webhook signatures. Stripe's answers are turned into the
//! processor [`Outcome`] every processor reports.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::processor::{MethodDetails, Outcome, RefundAnswer, RefundState};

/// The processor's name in floe's records.
pub const STRIPE: &str = "stripe";
/// How far a webhook's timestamp may be from now.
const TOLERANCE_SECONDS: i64 = 300;

pub struct Client {
    base: String,
    secret_key: String,
    http: reqwest::Client,
}

/// Stripe could not be asked, or refused the request itself (not a decline).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// No answer (unreachable, timed out, a 5xx): Stripe may have done the work, and a
    /// retry with the same `Idempotency-Key` or its webhook will tell.
    #[error("Stripe did not answer: {0}")]
    Unanswered(String),
    /// Stripe answered and refused the request: nothing was done.
    #[error("Stripe refused the request: {0}")]
    Refused(String),
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: StripeError,
}

#[derive(Debug, Deserialize)]
struct StripeError {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
    payment_intent: Option<Value>,
    setup_intent: Option<Value>,
}

/// Form-encodes nested parameters as Stripe reads them (`metadata[checkout_id]=…`).
fn encode(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}[{key}]")
                };
                encode(&name, inner, out);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                encode(&format!("{prefix}[{index}]"), inner, out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

impl Client {
    pub fn new(base: &str, secret_key: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            secret_key: secret_key.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }

    /// `POST {path}` with `params`; `Ok(Err(error))` is Stripe's own refusal (a decline).
    async fn post(
        &self,
        path: &str,
        params: &Value,
        idempotency_key: &str,
    ) -> Result<Result<Value, (u16, Value)>, Failure> {
        let mut form = Vec::new();
        encode("", params, &mut form);
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.secret_key, Some(""))
            .header("Idempotency-Key", idempotency_key)
            .header("Stripe-Version", "2025-08-27.basil")
            .form(&form)
            .send()
            .await
            .map_err(|e| Failure::Unanswered(e.to_string()))?;
        let status = response.status().as_u16();
        if status >= 500 {
            return Err(Failure::Unanswered(format!("{path}: {status}")));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| Failure::Unanswered(e.to_string()))?;
        Ok(if status < 300 {
            Ok(body)
        } else {
            Err((status, body))
        })
    }

    pub async fn get(&self, path: &str) -> Result<Value, Failure> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth(&self.secret_key, Some(""))
            .send()
            .await
            .map_err(|e| Failure::Unanswered(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Failure::Unanswered(format!(
                "GET {path}: {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| Failure::Unanswered(e.to_string()))
    }

    /// A Stripe customer for a floe customer.
    pub async fn create_customer(
        &self,
        email: Option<&str>,
        name: Option<&str>,
        floe_customer_id: &str,
    ) -> Result<String, Failure> {
        let params = serde_json::json!({
            "email": email,
            "name": name,
            "metadata": {"floe_customer_id": floe_customer_id},
        });
        match self
            .post(
                "/v1/customers",
                &params,
                &format!("floe-customer-{floe_customer_id}"),
            )
            .await?
        {
            Ok(customer) => customer["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Failure::Refused("a customer without an id".to_owned())),
            Err((status, body)) => Err(Failure::Refused(format!(
                "creating a customer: {status} {body}"
            ))),
        }
    }

    /// A PaymentIntent confirmed at once with the buyer's confirmation token (or, off
    /// session, a saved payment method), turned into an [`Outcome`].
    pub async fn charge(&self, charge: &Charge<'_>) -> Result<Outcome, Failure> {
        let mut params = serde_json::json!({
            "amount": charge.amount,
            "currency": charge.currency,
            "customer": charge.customer,
            "confirm": true,
            "description": charge.description,
            "metadata": charge.metadata,
            "expand": ["payment_method"],
        });
        if charge.off_session {
            params["payment_method"] = Value::String(charge.token.to_owned());
            params["off_session"] = Value::Bool(true);
            // Nobody is there to follow a redirect: only methods that need none.
            params["automatic_payment_methods"] =
                serde_json::json!({"enabled": true, "allow_redirects": "never"});
        } else {
            params["confirmation_token"] = Value::String(charge.token.to_owned());
            params["automatic_payment_methods"] = serde_json::json!({"enabled": true});
            params["return_url"] = Value::String(charge.return_url.to_owned());
            if charge.save_method {
                params["setup_future_usage"] = Value::String("off_session".to_owned());
            }
        }
        let answer = self
            .post("/v1/payment_intents", &params, charge.idempotency_key)
            .await?;
        outcome_of_answer(answer, charge.idempotency_key, outcome_of_intent, |error| {
            error.payment_intent.clone()
        })
    }

    /// A SetupIntent confirmed at once with the buyer's confirmation token: the payment
    /// method is kept for later off-session charges and nothing is charged now (Stripe
    /// refuses a PaymentIntent of 0).
    pub async fn setup(&self, setup: &Setup<'_>) -> Result<Outcome, Failure> {
        let params = serde_json::json!({
            "confirm": true,
            "confirmation_token": setup.token,
            "customer": setup.customer,
            "usage": "off_session",
            "automatic_payment_methods": {"enabled": true},
            "description": setup.description,
            "return_url": setup.return_url,
            "metadata": setup.metadata,
            "expand": ["payment_method"],
        });
        let answer = self
            .post("/v1/setup_intents", &params, setup.idempotency_key)
            .await?;
        outcome_of_answer(answer, setup.idempotency_key, outcome_of_setup, |error| {
            error.setup_intent.clone()
        })
    }
}

impl Client {
    /// Refunds `amount` of a PaymentIntent's charge (`refund_id` is floe's refund, the
    /// idempotency key and a metadata entry, so Stripe's events name it).
    pub async fn refund(
        &self,
        payment_intent: &str,
        amount: i64,
        reason: Option<&str>,
        refund_id: &str,
        order_id: &str,
    ) -> Result<RefundAnswer, Failure> {
        let params = serde_json::json!({
            "payment_intent": payment_intent,
            "amount": amount,
            "reason": reason,
            "metadata": {"refund_id": refund_id, "order_id": order_id},
        });
        match self
            .post("/v1/refunds", &params, &format!("floe-refund-{refund_id}"))
            .await?
        {
            Ok(refund) => refund_answer(&refund)
                .ok_or_else(|| Failure::Refused(format!("an unreadable refund: {refund}"))),
            Err((status, body)) => Err(Failure::Refused(format!("{status} {body}"))),
        }
    }

    /// Concedes a dispute (Stripe's "close"): the merchant accepts the loss. Answers the
    /// dispute as Stripe has it then.
    pub async fn close_dispute(&self, id: &str) -> Result<Value, Failure> {
        match self
            .post(
                &format!("/v1/disputes/{id}/close"),
                &serde_json::json!({}),
                &format!("floe-close-{id}"),
            )
            .await?
        {
            Ok(dispute) => Ok(dispute),
            Err((status, body)) => Err(Failure::Refused(format!("{status} {body}"))),
        }
    }

    /// A refund as Stripe has it now.
    pub async fn read_refund(&self, id: &str) -> Result<RefundAnswer, Failure> {
        let refund = self.get(&format!("/v1/refunds/{id}")).await?;
        refund_answer(&refund)
            .ok_or_else(|| Failure::Refused(format!("an unreadable refund: {refund}")))
    }
}

/// A Stripe `Refund` object as floe's [`RefundAnswer`] (`requires_action` waits, as
/// `pending` does).
pub fn refund_answer(refund: &Value) -> Option<RefundAnswer> {
    let state = match refund["status"].as_str()? {
        "succeeded" => RefundState::Succeeded,
        "failed" => RefundState::Failed(
            refund["failure_reason"]
                .as_str()
                .unwrap_or("unknown")
                .to_owned(),
        ),
        "canceled" => RefundState::Canceled,
        _ => RefundState::Pending,
    };
    Some(RefundAnswer {
        refund_id: refund["id"].as_str()?.to_owned(),
        state,
    })
}

/// Stripe's answer to a confirmation as an [`Outcome`]: the intent it returned, or its
/// `402` (a decline, which carries the intent), or a refusal. A decline without its intent
/// is named after the attempt's key, so that it is still recorded once, and apart.
fn outcome_of_answer(
    answer: Result<Value, (u16, Value)>,
    attempt_key: &str,
    outcome: fn(&Value) -> Outcome,
    intent_of: fn(&StripeError) -> Option<Value>,
) -> Result<Outcome, Failure> {
    match answer {
        Ok(intent) => Ok(outcome(&intent)),
        Err((402, body)) => {
            let error = serde_json::from_value::<ErrorBody>(body.clone())
                .map_err(|_| Failure::Refused(format!("an unreadable decline: {body}")))?
                .error;
            let intent = intent_of(&error).unwrap_or(Value::Null);
            Ok(Outcome::Declined {
                charge_id: intent["id"]
                    .as_str()
                    .map_or_else(|| format!("unknown-{attempt_key}"), str::to_owned),
                method: method_of(&intent["payment_method"]),
                code: error
                    .decline_code
                    .or(error.code)
                    .or(error.kind)
                    .unwrap_or_else(|| "card_declined".to_owned()),
                message: error
                    .message
                    .unwrap_or_else(|| "Your card was declined.".to_owned()),
            })
        }
        Err((status, body)) => Err(Failure::Refused(format!("{status} {body}"))),
    }
}

/// What floe asks Stripe to charge.
pub struct Charge<'a> {
    pub idempotency_key: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub customer: &'a str,
    pub token: &'a str,
    pub save_method: bool,
    pub off_session: bool,
    pub description: &'a str,
    pub return_url: &'a str,
    pub metadata: Value,
}

/// What floe asks Stripe to keep for later charges.
pub struct Setup<'a> {
    pub idempotency_key: &'a str,
    pub customer: &'a str,
    /// The buyer's confirmation token.
    pub token: &'a str,
    pub description: &'a str,
    pub return_url: &'a str,
    pub metadata: Value,
}

/// The card of an (expanded) payment method, as floe records it.
fn method_of(method: &Value) -> Option<MethodDetails> {
    let card = method.get("card")?;
    Some(MethodDetails {
        kind: method["type"].as_str().unwrap_or("card").to_owned(),
        brand: card["brand"].as_str().unwrap_or("unknown").to_owned(),
        last4: card["last4"].as_str().unwrap_or("0000").to_owned(),
        exp_month: u32::try_from(card["exp_month"].as_i64().unwrap_or(0)).unwrap_or(0),
        exp_year: i32::try_from(card["exp_year"].as_i64().unwrap_or(0)).unwrap_or(0),
        saved_as: method["id"].as_str().map(str::to_owned),
    })
}

fn unknown_card() -> MethodDetails {
    MethodDetails {
        kind: "card".to_owned(),
        brand: "unknown".to_owned(),
        last4: "0000".to_owned(),
        exp_month: 0,
        exp_year: 0,
        saved_as: None,
    }
}

/// A PaymentIntent (from an answer or a webhook event) as an [`Outcome`].
pub fn outcome_of_intent(intent: &Value) -> Outcome {
    let charge_id = intent["id"].as_str().unwrap_or("pi_unknown").to_owned();
    let method = method_of(&intent["payment_method"]).unwrap_or_else(unknown_card);
    match intent["status"].as_str() {
        Some("succeeded") | Some("processing") => Outcome::Succeeded { charge_id, method },
        Some("requires_action") => Outcome::RequiresAction {
            client_secret: intent["client_secret"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            charge_id,
            method,
        },
        _ => {
            let error = &intent["last_payment_error"];
            Outcome::Declined {
                charge_id,
                method: Some(method),
                code: error["decline_code"]
                    .as_str()
                    .or(error["code"].as_str())
                    .unwrap_or("payment_failed")
                    .to_owned(),
                message: error["message"]
                    .as_str()
                    .unwrap_or("The payment failed.")
                    .to_owned(),
            }
        }
    }
}

/// A SetupIntent (from an answer or a webhook event) as an [`Outcome`]: `succeeded` kept
/// the method, `requires_action` waits for the buyer, anything else failed.
pub fn outcome_of_setup(intent: &Value) -> Outcome {
    let charge_id = intent["id"].as_str().unwrap_or("seti_unknown").to_owned();
    let method = method_of(&intent["payment_method"]).unwrap_or_else(unknown_card);
    match intent["status"].as_str() {
        Some("succeeded") | Some("processing") => Outcome::Succeeded { charge_id, method },
        Some("requires_action") => Outcome::RequiresAction {
            client_secret: intent["client_secret"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            charge_id,
            method,
        },
        _ => {
            let error = &intent["last_setup_error"];
            Outcome::Declined {
                charge_id,
                method: Some(method),
                code: error["decline_code"]
                    .as_str()
                    .or(error["code"].as_str())
                    .unwrap_or("setup_failed")
                    .to_owned(),
                message: error["message"]
                    .as_str()
                    .unwrap_or("The payment method could not be saved.")
                    .to_owned(),
            }
        }
    }
}

/// Verifies a `Stripe-Signature` header (`t=…,v1=…[,v1=…]`): an HMAC-SHA256 of
/// `{t}.{body}` under the endpoint's secret matches one of the `v1` values, and `t` is
/// within five minutes of `now`.
pub fn verify_signature(header: &str, body: &[u8], secret: &str, now: i64) -> bool {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => candidates.push(value.to_owned()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    candidates.iter().any(|candidate| {
        hex::decode(candidate).is_ok_and(|given| {
            subtle::ConstantTimeEq::ct_eq(given.as_slice(), expected.as_slice()).into()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, body: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(format!("{t}.{body}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn signatures_are_checked_with_their_tolerance() {
        let body = r#"{"id":"evt_1"}"#;
        let good = sign("whsec_x", 1000, body);
        assert!(verify_signature(
            &format!("t=1000,v1={good}"),
            body.as_bytes(),
            "whsec_x",
            1200
        ));
        // Any matching v1 among several (a secret being rolled).
        assert!(verify_signature(
            &format!("t=1000,v1=00,v1={good}"),
            body.as_bytes(),
            "whsec_x",
            1000
        ));
        assert!(!verify_signature(
            &format!("t=1000,v1={good}"),
            body.as_bytes(),
            "whsec_x",
            1301
        ));
        assert!(!verify_signature(
            &format!("t=1000,v1={good}"),
            b"{}",
            "whsec_x",
            1000
        ));
        assert!(!verify_signature(
            &format!("t=1000,v1={good}"),
            body.as_bytes(),
            "whsec_y",
            1000
        ));
        assert!(!verify_signature(
            "v1=abc",
            body.as_bytes(),
            "whsec_x",
            1000
        ));
    }

    #[test]
    fn nested_parameters_are_encoded_as_stripe_reads_them() {
        let mut out = Vec::new();
        encode(
            "",
            &serde_json::json!({"metadata": {"a": "b"}, "expand": ["x"], "n": 3, "none": null}),
            &mut out,
        );
        out.sort();
        assert_eq!(
            out,
            vec![
                ("expand[0]".to_owned(), "x".to_owned()),
                ("metadata[a]".to_owned(), "b".to_owned()),
                ("n".to_owned(), "3".to_owned()),
            ]
        );
    }
}
