//! What a purchase costs: tiered rates applied to a quantity, and the totals of a checkout
//! (amount, discount, net, tax, total and the flags that follow from them). One place, so
//! that the API, the hosted page and the order never disagree.

pub mod rounding;
pub mod tiers;
pub mod totals;
