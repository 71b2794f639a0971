//! MQTT topic names and filters (MQTT 3.1.1 and 5.0 §4.7): which are valid and which filter
//! matches which topic. One validator for the store, the links and the panels.

/// Why a text is not an MQTT topic filter (MQTT 3.1.1 §4.7.1, §1.5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterProblem {
    Empty,
    /// `#` followed by more levels.
    HashNotLast,
    /// `#` sharing a level with other characters (`a#`).
    HashNotWholeLevel,
    /// `+` sharing a level with other characters (`a+`).
    PlusNotWholeLevel,
    Nul,
    TooLong,
}

impl FilterProblem {
    /// The reason in English (the UI translates its own catalogue keys).
    pub fn as_str(self) -> &'static str {
        match self {
            FilterProblem::Empty => "a filter is not empty",
            FilterProblem::HashNotLast => "# may only be the last level",
            FilterProblem::HashNotWholeLevel => "# must be a whole level",
            FilterProblem::PlusNotWholeLevel => "+ must be a whole level",
            FilterProblem::Nul => "a filter cannot hold a NUL character",
            FilterProblem::TooLong => "a filter is at most 65535 bytes",
        }
    }
}

/// Checks a subscription filter: not empty, `#` only as the whole last level, `+` only as a
/// whole level, no NUL, at most 65,535 bytes (a Rust string is UTF-8 already).
pub fn check_filter(filter: &str) -> Result<(), FilterProblem> {
    if filter.is_empty() {
        return Err(FilterProblem::Empty);
    }
    if filter.len() > usize::from(u16::MAX) {
        return Err(FilterProblem::TooLong);
    }
    if filter.contains('\0') {
        return Err(FilterProblem::Nul);
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        match level {
            "#" if levels.peek().is_some() => return Err(FilterProblem::HashNotLast),
            "#" | "+" => {}
            other if other.contains('#') => return Err(FilterProblem::HashNotWholeLevel),
            other if other.contains('+') => return Err(FilterProblem::PlusNotWholeLevel),
            _ => {}
        }
    }
    Ok(())
}

/// An MQTT topic filter is valid: see [`check_filter`].
pub fn is_valid_filter(filter: &str) -> bool {
    check_filter(filter).is_ok()
}

/// MQTT filter matching (MQTT 3.1.1 §4.7, 5.0 §4.7): `+` is one level (empty ones too), `#`
/// the rest including the parent level, and wildcards in the first level do not match topics
/// starting with `$`. Invalid filters and topic names (empty, with wildcards) match nothing.
pub fn matches_filter(filter: &str, topic: &str) -> bool {
    if !is_valid_filter(filter) || topic.is_empty() || topic.contains(['+', '#']) {
        return false;
    }
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut topic_levels = topic.split('/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(wanted), Some(level)) if wanted == level => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Why a topic name cannot be published to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicNameProblem {
    Empty,
    Wildcard,
    Nul,
    TooLong,
}

impl TopicNameProblem {
    /// The reason in English (the UI translates its own catalogue keys).
    pub fn as_str(self) -> &'static str {
        match self {
            TopicNameProblem::Empty => "a topic name is not empty",
            TopicNameProblem::Wildcard => "a topic to publish to cannot hold the wildcards + or #",
            TopicNameProblem::Nul => "a topic cannot hold a NUL character",
            TopicNameProblem::TooLong => "a topic is at most 65535 bytes",
        }
    }
}

/// Checks a topic name a message is published to: not empty, no wildcard, no NUL, at most
/// 65,535 bytes.
pub fn check_topic_name(topic: &str) -> Result<(), TopicNameProblem> {
    if topic.is_empty() {
        Err(TopicNameProblem::Empty)
    } else if topic.contains(['+', '#']) {
        Err(TopicNameProblem::Wildcard)
    } else if topic.contains('\0') {
        Err(TopicNameProblem::Nul)
    } else if topic.len() > usize::from(u16::MAX) {
        Err(TopicNameProblem::TooLong)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching_follows_the_spec() {
        let cases: &[(&str, &str, bool)] = &[
            ("sport/tennis/player1/#", "sport/tennis/player1", true),
            ("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
            ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true),
            ("sport/#", "sport", true),
            ("#", "sport/tennis", true),
            ("#", "/", true),
            ("sport/tennis/+", "sport/tennis/player1", true),
            ("sport/tennis/+", "sport/tennis/player1/ranking", false),
            ("sport/+", "sport", false),
            ("sport/+", "sport/", true),
            ("+/+", "/finance", true),
            ("/+", "/finance", true),
            ("+", "/finance", false),
            ("+", "a", true),
            ("+/+", "/", true),
            ("a/+/b", "a//b", true),
            ("a//b", "a//b", true),
            ("a/b", "a//b", false),
            ("#", "$SYS/monitor/Clients", false),
            ("+/monitor/Clients", "$SYS/monitor/Clients", false),
            ("$SYS/#", "$SYS/monitor/Clients", true),
            ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
            ("a/$x", "a/$x", true),
            ("a/+", "a/$x", true),
            ("ACCOUNTS", "Accounts", false),
            ("sport/tennis#", "sport/tennis", false),
            ("sport/tennis/#/ranking", "sport/tennis/x/ranking", false),
            ("sport+", "sport+", false),
            ("", "", false),
            ("#", "", false),
            ("a/+", "a/+", false),
        ];
        for &(filter, topic, expected) in cases {
            assert_eq!(matches_filter(filter, topic), expected, "{filter:?} vs {topic:?}");
        }
        assert!(is_valid_filter("#") && is_valid_filter("+") && is_valid_filter("/") && is_valid_filter("a/+/#"));
        assert!(!is_valid_filter("a/#/") && !is_valid_filter("a#") && !is_valid_filter("+a"));
    }

    #[test]
    fn topic_names_to_publish_to() {
        assert_eq!(check_topic_name("cems/v1/PK/GW/down/info/get"), Ok(()));
        assert_eq!(check_topic_name(""), Err(TopicNameProblem::Empty));
        assert_eq!(check_topic_name("a/+/b"), Err(TopicNameProblem::Wildcard));
        assert_eq!(check_topic_name("a\0"), Err(TopicNameProblem::Nul));
        assert_eq!(check_topic_name(&"a".repeat(70_000)), Err(TopicNameProblem::TooLong));
        // Filters are checked the same way everywhere: also an empty level is a level.
        assert!(!is_valid_filter(""));
    }

    #[test]
    fn filter_problems_are_named() {
        assert_eq!(check_filter("plant/meter/+/power"), Ok(()));
        assert_eq!(check_filter("#"), Ok(()));
        assert_eq!(check_filter("//"), Ok(()));
        assert_eq!(check_filter(""), Err(FilterProblem::Empty));
        assert_eq!(check_filter("a/#/b"), Err(FilterProblem::HashNotLast));
        assert_eq!(check_filter("a/b#"), Err(FilterProblem::HashNotWholeLevel));
        assert_eq!(check_filter("a/+b"), Err(FilterProblem::PlusNotWholeLevel));
        assert_eq!(check_filter("a/\0"), Err(FilterProblem::Nul));
        assert_eq!(check_filter(&"a".repeat(65_535)), Ok(()));
        assert_eq!(check_filter(&"a".repeat(65_536)), Err(FilterProblem::TooLong));
    }
}
