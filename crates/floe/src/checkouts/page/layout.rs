//! The shell every hosted page shares: the document, its one inline stylesheet, and the
//! headers a page that carries a buyer's details and its checkout's secret needs.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Inline so that the page makes no request of its own: no fonts, scripts or images.
const CSS: &str = r#"
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f4f5f7}
main{max-width:960px;margin:0 auto;padding:16px}
header.org{max-width:960px;margin:0 auto;padding:16px 16px 0;font-weight:600;color:#57606a}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 8px;overflow-wrap:anywhere}
h2{font-size:1.125rem;margin:0 0 12px}
p{margin:0 0 12px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px;margin-bottom:16px;min-width:0}
.description{white-space:pre-line;color:#3d444d;overflow-wrap:anywhere}
.price{font-size:1.25rem;font-weight:600}
.muted{color:#57606a;font-size:.9375rem}
.field{margin-bottom:14px}
fieldset{border:0;margin:0 0 14px;padding:0;min-width:0}
legend{font-weight:600;padding:0;margin-bottom:6px}
label{display:block;font-weight:600;margin-bottom:4px;overflow-wrap:anywhere}
label.choice{display:flex;gap:8px;align-items:flex-start;font-weight:400;padding:8px;border:1px solid #d0d7de;border-radius:6px;margin-bottom:6px}
label.choice input{margin-top:4px}
.req{color:#b42318}
.hint{color:#57606a;font-size:.875rem;margin:0 0 4px}
input[type=text],input[type=email],input[type=number],input[type=date],select,textarea{display:block;width:100%;max-width:100%;font:inherit;padding:8px 10px;border:1px solid #8c959f;border-radius:6px;background:#fff;color:inherit}
textarea{min-height:5em}
.row{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:12px}
.row .field{display:flex;flex-direction:column}
.row .field input{margin-top:auto}
.inline{display:flex;gap:8px;align-items:flex-end;margin-bottom:14px}
.inline button{padding:8px 16px}
.inline .field{flex:1;min-width:0;margin-bottom:0}
button{font:inherit;font-weight:600;border-radius:6px;padding:10px 16px;cursor:pointer;border:1px solid #8c959f;background:#f6f8fa;color:#1f2328}
button.pay{display:block;width:100%;padding:14px;font-size:1.0625rem;background:#1f6feb;border-color:#1f6feb;color:#fff}
button:hover{filter:brightness(.95)}
a{color:#0b57d0}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.has-error input,.has-error select,.has-error textarea{border-color:#b42318;border-width:2px}
.error{color:#b42318;font-weight:600;margin:0 0 4px;overflow-wrap:anywhere}
.alert{border:2px solid #b42318;background:#fff5f5;border-radius:8px;padding:12px 16px;margin-bottom:16px;overflow-wrap:anywhere}
.alert h2{color:#b42318;margin-bottom:6px}
.alert ul{margin:0;padding-left:20px}
.notice{border:2px solid #1f6feb;background:#f0f6ff;border-radius:8px;padding:12px 16px;margin-bottom:16px}
dl.totals{margin:0}
dl.totals div{display:flex;justify-content:space-between;gap:12px;padding:4px 0}
dl.totals dt,dl.totals dd{margin:0}
dl.totals .total{border-top:1px solid #d0d7de;margin-top:6px;padding-top:10px;font-weight:700;font-size:1.125rem}
.test-mode{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;font-size:.875rem}
.visually-hidden{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.status{text-align:center;padding:32px 16px}
.status h1{font-size:1.75rem}
.actions{display:flex;flex-wrap:wrap;gap:12px;justify-content:center;margin-top:16px}
.actions .pay{display:inline-block;width:auto}
.actions.start{justify-content:flex-start;margin:8px 0 12px}
a.button{display:inline-block;font-weight:600;border-radius:6px;padding:10px 16px;border:1px solid #8c959f;background:#f6f8fa;color:#1f2328;text-decoration:none}
h3{font-size:1.0625rem;margin:0 0 4px;overflow-wrap:anywhere}
article.subscription{border-top:1px solid #d0d7de;padding-top:12px;margin-top:12px}
article.subscription:first-of-type{border-top:0;margin-top:0;padding-top:0}
section.card ul{padding-left:20px;margin:0;overflow-wrap:anywhere}
@media (min-width:800px){
  form.checkout{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,6fr);gap:24px;align-items:start}
  form.checkout>.top{grid-column:1/-1}
}
"#;

/// A whole page: `title` for the tab, `organization` above the content.
pub fn document(
    title: &str,
    organization: Option<&str>,
    head_extra: Markup,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                (head_extra)
                style { (PreEscaped(CSS)) }
            }
            body {
                @if let Some(organization) = organization {
                    header.org { (organization) }
                }
                main { (body) }
            }
        }
    }
}

/// `markup` with `status` and the headers every hosted page carries: no caching (it holds
/// the buyer's details), no referrer (its URL is the checkout's secret, and the buyer
/// leaves for the merchant's site from here), and a policy that loads nothing from
/// anywhere: the page is self-contained.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(headers);
    response
}

/// [`respond`] with another Content-Security-Policy: a Stripe checkout's pages load
/// Stripe.js and run floe's one script (`card::stripe_policy`).
pub fn respond_with_policy(status: StatusCode, markup: Markup, policy: &'static str) -> Response {
    let mut response = respond(status, markup);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    response
}

fn secure(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"),
    );
}

/// `303 See Other` to `location`: the answer to every form that succeeded (POST, then
/// redirect, then GET).
pub fn see_other(location: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        // A URL the merchant stored that cannot be a header: send the buyer nowhere odd.
        return respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            html! { p { "This page could not be opened." } },
        );
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    secure(response.headers_mut());
    response
}
