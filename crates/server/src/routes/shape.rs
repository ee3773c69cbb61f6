//! The one switch between NetWatch's exact answers and ours: `?extended=true` on any of
//! NetWatch's paths adds NetSnoop's fields (ports, bytes, alert ids and details) after
//! NetWatch's keys; without it each path answers with exactly NetWatch's keys, in order.

use crate::error::ApiResult;
use crate::routes::alerts::parse_bool;
use serde::Deserialize;
use utoipa::IntoParams;

/// `?extended=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Shape {
    /// `true` adds NetSnoop's fields after NetWatch's (ports, bytes, alert ids, details).
    /// Without it the answer has exactly NetWatch's keys, so NetWatch's clients work
    /// unchanged.
    #[param(value_type = Option<bool>)]
    pub extended: Option<String>,
}

impl Shape {
    pub fn extended(&self) -> ApiResult<bool> {
        parse_bool("extended", self.extended.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(v: Option<&str>) -> ApiResult<bool> {
        Shape {
            extended: v.map(str::to_string),
        }
        .extended()
    }

    #[test]
    fn extended_is_true_or_false_and_an_empty_or_unknown_value_is_refused() {
        assert!(!shape(None).unwrap());
        assert!(shape(Some("true")).unwrap());
        assert!(!shape(Some("false")).unwrap());
        assert!(shape(Some("")).is_err(), "an empty value is no boolean");
        assert!(shape(Some("maybe")).is_err());
    }
}
