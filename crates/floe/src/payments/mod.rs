//! Payment processors. The built-in test processor needs no account and speaks Stripe's
//! test vocabulary (`test_cards`), so a developer who knows Stripe knows floe.

pub mod test_cards;
