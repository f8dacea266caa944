//! Usage logs: streaming readers for the records `costgate calibrate` and
//! `costgate check --observed` fit and compare (OpenTelemetry GenAI spans as
//! OTLP/JSON, LiteLLM spend logs as JSON or CSV, any CSV or JSON Lines with a
//! column mapping; gzip accepted).
//!
//! A reader turns each record into a [`Call`] and hands it to a sink, one at
//! a time: nothing here holds more than one record, so memory does not grow
//! with the file. Identifiers (users, tenants, traces, sessions) are kept as
//! 64-bit hashes ([`id_hash`]), never as the strings the log carries.

/// One model call read from a log.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// When the call started, in seconds since the Unix epoch (UTC); `None`
    /// when the record has no time.
    pub time_s: Option<f64>,
    /// The user (hashed with [`id_hash`]), if the record names one.
    pub user: Option<u64>,
    /// The tenant (organisation, team; hashed), if the record names one.
    pub tenant: Option<u64>,
    /// The interaction this call belongs to (trace id, else session or
    /// conversation id; hashed), if the record has one.
    pub interaction: Option<u64>,
    /// The model, as the log names it (the response model before the
    /// request model), if the record names one.
    pub model: Option<String>,
    /// Input tokens, cached ones included (the OpenTelemetry convention).
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Of the input tokens, those read from the cache, if the record says.
    pub cached_tokens: Option<u64>,
    /// What the log itself recorded the call cost, in USD (LiteLLM's
    /// `spend`), if it did.
    pub spend_usd: Option<f64>,
}

/// The 64-bit hash an identifier from a log is kept as: FNV-1a, fixed, so
/// the same id hashes the same on every run and machine.
pub fn id_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
