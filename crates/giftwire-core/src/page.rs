//! Page-number pagination (CONTRACT.md §4): `page` from 1, `per_page` up to 100, default 10.

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    per_page: u32,
}

/// A `page` or `per_page` value that is not a positive decimal integer below 2^31.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be a positive integer (got {value:?})")]
pub struct PageParamError {
    pub name: &'static str,
    pub value: String,
}

impl PageRequest {
    pub const DEFAULT_PER_PAGE: u32 = 10;
    pub const MAX_PER_PAGE: u32 = 100;

    /// Builds a request from the raw query values; `None` means the parameter was absent.
    /// `per_page` above the maximum is clamped to it.
    pub fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
    ) -> Result<PageRequest, PageParamError> {
        let page = page.map(|v| positive("page", v)).transpose()?.unwrap_or(1);
        let per_page = per_page
            .map(|v| positive("per_page", v))
            .transpose()?
            .unwrap_or(Self::DEFAULT_PER_PAGE)
            .min(Self::MAX_PER_PAGE);
        Ok(PageRequest { page, per_page })
    }

    /// A request known to be valid (page ≥ 1, 1 ≤ per_page ≤ 100), e.g. for internal callers.
    pub fn new(page: u32, per_page: u32) -> PageRequest {
        PageRequest {
            page: page.max(1),
            per_page: per_page.clamp(1, Self::MAX_PER_PAGE),
        }
    }

    pub fn page(self) -> u32 {
        self.page
    }

    pub fn per_page(self) -> u32 {
        self.per_page
    }

    /// How many items precede this page.
    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

fn positive(name: &'static str, value: &str) -> Result<u32, PageParamError> {
    let err = || PageParamError {
        name,
        value: crate::InvalidValue::new(name, value).value,
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    match value.parse::<u32>() {
        Ok(n) if n >= 1 && n <= i32::MAX as u32 => Ok(n),
        _ => Err(err()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_are_page_one_of_ten() {
        let p = PageRequest::parse(None, None).unwrap();
        assert_eq!((p.page(), p.per_page(), p.offset()), (1, 10, 0));
    }

    #[test]
    fn per_page_above_the_maximum_is_clamped() {
        assert_eq!(
            PageRequest::parse(None, Some("101")).unwrap().per_page(),
            100
        );
        assert_eq!(
            PageRequest::parse(None, Some("2147483647"))
                .unwrap()
                .per_page(),
            100
        );
    }

    #[test]
    fn malformed_values_name_the_parameter_and_the_value() {
        for bad in [
            "abc",
            "0",
            "-1",
            "1.5",
            "",
            "+1",
            " 1",
            "2147483648",
            "99999999999999999999",
        ] {
            let err = PageRequest::parse(Some(bad), None).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("page must be a positive integer (got {bad:?})")
            );
            let err = PageRequest::parse(None, Some(bad)).unwrap_err();
            assert_eq!(err.name, "per_page");
        }
        assert_eq!(
            PageRequest::parse(None, Some("abc"))
                .unwrap_err()
                .to_string(),
            r#"per_page must be a positive integer (got "abc")"#
        );
    }

    #[test]
    fn the_deepest_page_does_not_overflow() {
        let p = PageRequest::parse(Some("2147483647"), Some("100")).unwrap();
        assert_eq!(p.offset(), 214_748_364_600);
    }

    proptest! {
        #[test]
        fn every_positive_i32_is_accepted(n in 1u32..=i32::MAX as u32) {
            let p = PageRequest::parse(Some(&n.to_string()), Some(&n.to_string())).unwrap();
            prop_assert_eq!(p.page(), n);
            prop_assert_eq!(p.per_page(), n.min(100));
        }
    }
}
