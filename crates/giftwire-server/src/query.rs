//! Query strings (CONTRACT.md §1): unknown parameters are ignored; a known one given twice is a 400.

use std::collections::HashMap;

use crate::error::ApiError;

/// The values of the `known` parameters of a raw query string, each given at most once.
pub fn single_values(
    raw: Option<&str>,
    known: &[&'static str],
) -> Result<HashMap<&'static str, String>, ApiError> {
    let mut values: HashMap<&'static str, String> = HashMap::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let Some(name) = known.iter().copied().find(|k| *k == key) else {
            continue;
        };
        if let Some(first) = values.get(name) {
            return Err(ApiError::BadRequest(format!(
                "{name} must be given at most once (got {first:?} and {value:?})"
            )));
        }
        values.insert(name, value.into_owned());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parameters_are_ignored_and_values_are_decoded() {
        let v = single_values(
            Some("page=2&foo=1&foo=2&per_page=%31%30"),
            &["page", "per_page"],
        )
        .unwrap();
        assert_eq!(v["page"], "2");
        assert_eq!(v["per_page"], "10");
        assert!(single_values(None, &["page"]).unwrap().is_empty());
    }

    #[test]
    fn a_known_parameter_given_twice_is_refused() {
        let err = single_values(Some("page=1&page=2"), &["page"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"page must be given at most once (got "1" and "2")"#
        );
    }
}
