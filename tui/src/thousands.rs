//! Large counts as people read them.

/// `12345678` as `12,345,678`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_digits_by_three() {
        for (n, text) in [(0, "0"), (999, "999"), (1000, "1,000"), (11_178_378, "11,178,378")] {
            assert_eq!(thousands(n), text);
        }
    }
}
