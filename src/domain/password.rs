//! Password rules: a length range, and a floor on how hard the password is to guess.
//!
//! Guessability is estimated by zxcvbn (Dropbox's estimator): it knows about 30,000 common
//! passwords, names and English words, and spots keyboard rows, sequences, repeats, dates and
//! l33t spellings, plus whatever personal values (email, company name) the caller passes. A
//! few plain rules run first so the commonest refusals do not depend on the estimator.

use zxcvbn::Score;

/// Shortest accepted password, in characters.
pub const MIN_LENGTH: usize = 12;
/// Longest accepted password, in characters (bounds the hashing cost).
pub const MAX_LENGTH: usize = 128;
/// Lowest accepted zxcvbn score: `Three` means the estimator needs at least 10^8 guesses, the
/// level its authors advise; below it, an attacker holding the hash finds the password even
/// at argon2id's speed.
const MIN_SCORE: Score = Score::Three;

/// Why a password is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Weakness {
    /// Fewer than [`MIN_LENGTH`] characters.
    TooShort,
    /// More than [`MAX_LENGTH`] characters.
    TooLong,
    /// Easy to guess; the reason, when one is known, for people.
    TooCommon(Option<String>),
}

impl Weakness {
    /// A plain-language explanation.
    pub fn message(&self) -> String {
        match self {
            Weakness::TooShort => {
                format!("The password must be at least {MIN_LENGTH} characters.")
            }
            Weakness::TooLong => format!("The password must be at most {MAX_LENGTH} characters."),
            Weakness::TooCommon(reason) => format!(
                "The password is too easy to guess.{}{} Use a few unrelated words, or let a \
                 password manager make one.",
                if reason.is_some() { " " } else { "" },
                reason.as_deref().unwrap_or_default()
            ),
        }
    }
}

/// Checks `password` against the rules. `personal` holds values an attacker would try first
/// (the user's email, company name); an email also counts by its part before the `@`. Takes a
/// few milliseconds on long input: call it off the async executor.
pub fn check(password: &str, personal: &[&str]) -> Result<(), Weakness> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(Weakness::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(Weakness::TooLong);
    }
    let common = |reason: &str| Err(Weakness::TooCommon(Some(reason.to_string())));
    let trimmed = password.trim();
    if trimmed.is_empty() {
        return common("It is only spaces.");
    }
    let mut chars = trimmed.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return common("It is one character repeated.");
        }
    }
    let mut inputs = Vec::with_capacity(personal.len() * 2);
    for value in personal.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        if value.to_lowercase() == trimmed.to_lowercase() {
            return common("It is your own email or name.");
        }
        inputs.push(value);
        if let Some((local, _)) = value.split_once('@') {
            inputs.push(local);
        }
    }
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= MIN_SCORE {
        return Ok(());
    }
    let reason = estimate
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| w.to_string());
    Err(Weakness::TooCommon(reason))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const EMAIL: &str = "jane.doe@example.com";

    fn refused(password: &str) -> Option<Weakness> {
        check(password, &[EMAIL, "Acme Ltd"]).err()
    }

    fn is_common(password: &str) -> bool {
        matches!(refused(password), Some(Weakness::TooCommon(_)))
    }

    #[test]
    fn a_password_under_twelve_characters_is_too_short() {
        assert_eq!(refused(""), Some(Weakness::TooShort));
        assert_eq!(refused("Xk4#pW9!qZ2"), Some(Weakness::TooShort));
        assert_eq!(refused(&" ".repeat(10)), Some(Weakness::TooShort));
        // Characters, not bytes: twelve accented letters are twelve characters.
        assert_eq!(refused("éèêëēėęàâäåá"), None);
    }

    #[test]
    fn a_password_over_128_characters_is_too_long() {
        assert_eq!(refused(&"x".repeat(129)), Some(Weakness::TooLong));
        assert_ne!(refused(&"x".repeat(128)), Some(Weakness::TooLong));
    }

    #[test]
    fn common_passwords_keyboard_rows_and_sequences_are_too_common() {
        assert_eq!(refused("password12"), Some(Weakness::TooShort));
        for password in [
            "password1234",
            "Password123!",
            "123456789012",
            "qwertyuiopas",
            "1qaz2wsx3edc",
            "abcdefghijkl",
            "iloveyou2020",
            "abc123abc123",
            "letmein12345",
        ] {
            assert!(is_common(password), "{password} was accepted");
        }
    }

    #[test]
    fn one_repeated_character_or_only_whitespace_is_too_common() {
        for password in [
            " ".repeat(12),
            "\t \n ".repeat(4),
            "a".repeat(12),
            "7".repeat(40),
            format!("  {}  ", "z".repeat(12)),
        ] {
            assert!(is_common(&password), "{password:?} was accepted");
        }
    }

    #[test]
    fn the_users_own_email_or_company_is_too_common() {
        assert!(is_common(EMAIL));
        assert!(is_common("Jane.Doe@Example.com"));
        assert!(is_common("jane.doe1234"));
        assert!(is_common("acme ltd 2024"));
    }

    #[test]
    fn a_refusal_for_guessability_says_why_when_it_knows() {
        let Some(Weakness::TooCommon(Some(reason))) = refused("a".repeat(12).as_str()) else {
            panic!("expected a reason");
        };
        assert!(Weakness::TooCommon(Some(reason.clone()))
            .message()
            .contains(&reason));
        assert!(!Weakness::TooCommon(None).message().contains("  "));
    }

    #[test]
    fn passphrases_and_random_passwords_are_accepted() {
        for password in [
            "correct horse battery",
            "a long passphrase",
            "quiet-otter-lamp",
            "gT7#kP2!xQ9z",
            "my new password 2",
        ] {
            assert_eq!(refused(password), None, "{password}");
        }
    }
}
