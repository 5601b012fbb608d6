//! Numbers the way people write them, for every table, verdict and chart.

/// Formats a fact's value the way people write numbers: `3`, `0.25`, `10.4`,
/// with about three significant digits.
pub fn format_value(v: f64) -> String {
    format_digits(v, 3)
}

fn format_digits(v: f64, significant: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞".into() } else { "-∞".into() };
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let magnitude = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    let decimals = (significant as i32 - 1 - magnitude).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Formats `v` with enough digits that it never reads as equal to one of
/// `limits` when it is not: "0.9899" beside a bound of 0.99, never "0.99".
pub fn format_beside(v: f64, limits: &[f64]) -> String {
    for digits in 3..=15 {
        let text = format_digits(v, digits);
        let clashes = limits
            .iter()
            .any(|&l| l != v && (text == format_digits(l, digits) || text == format_value(l)));
        if !clashes {
            return text;
        }
    }
    format!("{v:e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_printed_the_way_people_write_them() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(10.43), "10.4");
        assert_eq!(format_value(0.8), "0.8");
        assert_eq!(format_value(0.001234), "0.00123");
        assert_eq!(format_value(1234.4), "1234");
        assert_eq!(format_value(0.0), "0");
    }

    #[test]
    fn a_value_beside_its_bound_shows_the_digits_that_differ() {
        assert_eq!(format_beside(0.98999, &[0.99, 1.5]), "0.98999");
        assert_eq!(format_beside(0.9899, &[0.99]), "0.9899");
        assert_eq!(format_beside(0.5, &[0.99]), "0.5");
        assert_eq!(format_beside(1.1000001, &[1.1]), "1.1000001");
        assert_eq!(format_beside(0.99, &[0.99]), "0.99");
    }
}
