//! `on.schedule` → an EventBridge schedule expression.
//!
//! Copilot accepts the cron shortcuts (`@daily`, ...), `@every <duration>`,
//! a standard 5-field unix cron, EventBridge's own `cron(...)` / `rate(...)`,
//! and `none`. EventBridge only understands `rate(...)` and its 6-field
//! `cron(minute hour day-of-month month day-of-week year)`, where exactly one
//! of day-of-month and day-of-week is `?` and days of the week count 1-7 from
//! Sunday (unix cron counts 0-6 from Sunday, 7 being Sunday again).

use ferry_plugin_sdk::workload::Duration;
use std::fmt;

/// Why a schedule cannot be converted; `hint` says what would work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    pub message: String,
    pub hint: String,
}

impl ScheduleError {
    fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        ScheduleError { message: message.into(), hint: hint.into() }
    }
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.hint)
    }
}

/// The `schedule` value that turns the trigger off.
pub const NONE: &str = "none";

const FORMS: &str = "use `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`, `@every 30m`, a cron such as `0 9 * * 1-5`, `cron(0 9 ? * MON-FRI *)`, `rate(1 hour)` or `none`";

/// The EventBridge expression for a manifest schedule; `None` for `none`
/// (the job only runs when started by hand).
pub fn to_expression(schedule: &str) -> Result<Option<String>, ScheduleError> {
    let s = schedule.trim();
    if s.is_empty() {
        return Err(ScheduleError::new("the schedule is empty", FORMS));
    }
    if s == NONE {
        return Ok(None);
    }
    let shortcut = match s {
        "@hourly" => Some("cron(0 * * * ? *)"),
        "@daily" | "@midnight" => Some("cron(0 0 * * ? *)"),
        "@weekly" => Some("cron(0 0 ? * 1 *)"),
        "@monthly" => Some("cron(0 0 1 * ? *)"),
        "@yearly" | "@annually" => Some("cron(0 0 1 1 ? *)"),
        _ => None,
    };
    if let Some(expr) = shortcut {
        return Ok(Some(expr.to_string()));
    }
    if let Some(rest) = s.strip_prefix("@every") {
        return every(rest.trim(), s).map(Some);
    }
    if s.starts_with('@') {
        return Err(ScheduleError::new(format!("unknown schedule shortcut `{s}`"), FORMS));
    }
    if let Some(inner) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        check_rate(inner, s)?;
        return Ok(Some(s.to_string()));
    }
    if let Some(inner) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        check_eventbridge_cron(inner, s)?;
        return Ok(Some(s.to_string()));
    }
    if s.starts_with("rate") || s.starts_with("cron") {
        return Err(ScheduleError::new(
            format!("`{s}` is not a complete expression"),
            "write `rate(<value> <unit>)` or `cron(<six fields>)` with both parentheses",
        ));
    }
    unix_cron(s).map(Some)
}

/// `@every 1h30m` → `rate(90 minutes)`; whole minutes only, at least one.
fn every(duration: &str, whole: &str) -> Result<String, ScheduleError> {
    if duration.is_empty() {
        return Err(ScheduleError::new(
            format!("`{whole}` has no duration"),
            "write e.g. `@every 5m` or `@every 1h30m`",
        ));
    }
    let d =
        Duration::parse(duration).map_err(|why| ScheduleError::new(why, "write e.g. `@every 5m` or `@every 1h30m`"))?;
    if d.millis < 60_000 {
        return Err(ScheduleError::new(
            format!("`{whole}` is shorter than a minute"),
            "EventBridge schedules run at most once a minute: use `@every 1m` or longer",
        ));
    }
    if !d.millis.is_multiple_of(60_000) {
        return Err(ScheduleError::new(
            format!("`{whole}` is not a whole number of minutes"),
            "EventBridge rates count whole minutes: use e.g. `@every 2m` or `@every 1h30m`",
        ));
    }
    let minutes = d.millis / 60_000;
    Ok(if minutes.is_multiple_of(24 * 60) {
        rate(minutes / (24 * 60), "day")
    } else if minutes.is_multiple_of(60) {
        rate(minutes / 60, "hour")
    } else {
        rate(minutes, "minute")
    })
}

fn rate(n: u64, unit: &str) -> String {
    if n == 1 { format!("rate(1 {unit})") } else { format!("rate({n} {unit}s)") }
}

/// `rate(5 minutes)`: a positive whole number and a unit EventBridge knows,
/// singular for 1 and plural otherwise.
fn check_rate(inner: &str, whole: &str) -> Result<(), ScheduleError> {
    let hint = "write `rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`, `rate(12 hours)` or `rate(1 day)`";
    let parts: Vec<&str> = inner.split_whitespace().collect();
    let [value, unit] = parts.as_slice() else {
        return Err(ScheduleError::new(format!("`{whole}` is not `rate(<value> <unit>)`"), hint));
    };
    let n: u64 = match value.parse() {
        Ok(n) if n > 0 => n,
        _ => return Err(ScheduleError::new(format!("`{value}` in `{whole}` is not a positive whole number"), hint)),
    };
    let (singular, plural) = match *unit {
        "minute" | "hour" | "day" => (true, false),
        "minutes" | "hours" | "days" => (false, true),
        other => {
            return Err(ScheduleError::new(
                format!("unknown unit `{other}` in `{whole}`"),
                "use minutes, hours or days",
            ));
        }
    };
    if (n == 1 && plural) || (n != 1 && singular) {
        let base = unit.trim_end_matches('s');
        return Err(ScheduleError::new(format!("EventBridge refuses `{whole}`"), format!("write `{}`", rate(n, base))));
    }
    Ok(())
}

/// `cron(...)` as EventBridge reads it: six fields, one of day-of-month and
/// day-of-week `?`.
fn check_eventbridge_cron(inner: &str, whole: &str) -> Result<(), ScheduleError> {
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(ScheduleError::new(
            format!("`{whole}` has {} fields; EventBridge cron expressions have six", fields.len()),
            "write `cron(minutes hours day-of-month month day-of-week year)`, e.g. `cron(0 9 ? * MON-FRI *)`, or a 5-field unix cron without `cron(...)`",
        ));
    }
    if (fields[2] == "?") == (fields[4] == "?") {
        return Err(ScheduleError::new(
            format!("in `{whole}` exactly one of day-of-month and day-of-week must be `?`"),
            "e.g. `cron(0 9 ? * MON-FRI *)` or `cron(0 9 1 * ? *)`",
        ));
    }
    Ok(())
}

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTH_NAMES: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/// One unix cron field's rules.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Where `*/n` starts counting.
    first: u32,
}

const MINUTE: Field = Field { name: "minute", min: 0, max: 59, names: &[], first: 0 };
const HOUR: Field = Field { name: "hour", min: 0, max: 23, names: &[], first: 0 };
const DAY_OF_MONTH: Field = Field { name: "day-of-month", min: 1, max: 31, names: &[], first: 1 };
const MONTH: Field = Field { name: "month", min: 1, max: 12, names: &MONTH_NAMES, first: 1 };
const DAY_OF_WEEK: Field = Field { name: "day-of-week", min: 0, max: 7, names: &DAY_NAMES, first: 0 };

/// A standard 5-field cron → EventBridge's 6-field `cron(...)`.
fn unix_cron(s: &str) -> Result<String, ScheduleError> {
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(ScheduleError::new(
            format!("`{s}` is not a schedule: a cron expression has five fields, this has {}", fields.len()),
            FORMS,
        ));
    }
    let minute = convert_field(fields[0], &MINUTE, s)?;
    let hour = convert_field(fields[1], &HOUR, s)?;
    let dom_any = matches!(fields[2], "*" | "?");
    let dow_any = matches!(fields[4], "*" | "?");
    let month = convert_field(fields[3], &MONTH, s)?;
    let (dom, dow) = match (dom_any, dow_any) {
        (true, true) => ("*".to_string(), "?".to_string()),
        (true, false) => ("?".to_string(), convert_field(fields[4], &DAY_OF_WEEK, s)?),
        (false, true) => (convert_field(fields[2], &DAY_OF_MONTH, s)?, "?".to_string()),
        (false, false) => {
            return Err(ScheduleError::new(
                format!("`{s}` restricts both the day of the month and the day of the week"),
                "EventBridge cannot run on either one: set one of them to `*`, or write two jobs",
            ));
        }
    };
    Ok(format!("cron({minute} {hour} {dom} {month} {dow} *)"))
}

/// Converts one field (a list of items: `*`, `a`, `a-b`, each with an
/// optional `/step`), checking ranges and mapping days of the week.
fn convert_field(text: &str, field: &Field, whole: &str) -> Result<String, ScheduleError> {
    let bad = |why: String| {
        ScheduleError::new(
            format!("invalid {} `{text}` in `{whole}`: {why}", field.name),
            format!(
                "use numbers from {} to {}{}, `*`, ranges `a-b`, lists `a,b` and steps `/n`",
                field.min,
                field.max,
                if field.names.is_empty() { String::new() } else { format!(" or names ({})", field.names.join(", ")) }
            ),
        )
    };
    let dow = field.name == DAY_OF_WEEK.name;
    let mut out = Vec::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, st)) => {
                let n: u32 = st.parse().map_err(|_| bad(format!("`{st}` is not a step")))?;
                if n == 0 {
                    return Err(bad("a step of 0".into()));
                }
                (r, Some(n))
            }
            None => (item, None),
        };
        let step_text = step.map(|n| format!("/{n}")).unwrap_or_default();
        if dow && step.is_some() {
            // Days of the week with a step: list the days, EventBridge-numbered.
            out.push(dow_steps(range, step.unwrap_or(1), field).map_err(bad)?);
            continue;
        }
        if range == "*" {
            match step {
                // EventBridge writes `*/n` as `<first>/n`.
                Some(_) => out.push(format!("{}{step_text}", field.first)),
                None => out.push("*".into()),
            }
            continue;
        }
        let (lo, hi) = match range.split_once('-') {
            Some((a, b)) => (a, Some(b)),
            None => (range, None),
        };
        let lo_v = value(lo, field).map_err(bad)?;
        let hi_v = hi.map(|h| value(h, field)).transpose().map_err(bad)?;
        if let Some((_, h)) = hi_v
            && h < lo_v.1
        {
            return Err(bad(format!("the range `{range}` runs backwards")));
        }
        if !dow {
            out.push(format!("{}{step_text}", range.to_ascii_uppercase()));
            continue;
        }
        // Days of the week: unix 0-7 (0 and 7 Sunday) → EventBridge 1-7.
        let map = |(text, v): (String, u32)| if text.is_empty() { (v % 7 + 1).to_string() } else { text };
        match hi_v {
            None => out.push(map(lo_v)),
            // `0-7` is every day; `a-7` runs through Sunday, which is 1 in EventBridge.
            Some((_, 7)) if lo_v.1 == 0 => out.push("1-7".into()),
            Some((_, 7)) if lo_v.1 == 7 => out.push("1".into()),
            Some((_, 7)) => out.push(format!("{}-7,1", map(lo_v))),
            Some(hi_v) => out.push(format!("{}-{}", map(lo_v), map(hi_v))),
        }
    }
    Ok(out.join(","))
}

/// `*/2`, `1-5/2`, `1/3` in the day-of-week field → the days as a list.
fn dow_steps(range: &str, step: u32, field: &Field) -> Result<String, String> {
    let (lo, hi) = match range {
        "*" => (0, 6),
        _ => match range.split_once('-') {
            Some((a, b)) => (value(a, field)?.1, value(b, field)?.1),
            None => (value(range, field)?.1, 6),
        },
    };
    if hi < lo {
        return Err(format!("the range `{range}` runs backwards"));
    }
    let mut days: Vec<u32> = (lo..=hi).step_by(step as usize).map(|v| v % 7 + 1).collect();
    days.sort_unstable();
    days.dedup();
    Ok(days.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
}

/// A value of a field: (name as EventBridge writes it, or "" for a number;
/// its number).
fn value(text: &str, field: &Field) -> Result<(String, u32), String> {
    let upper = text.to_ascii_uppercase();
    if let Some(i) = field.names.iter().position(|n| *n == upper) {
        let n = i as u32 + if field.names.len() == 12 { 1 } else { 0 };
        return Ok((upper, n));
    }
    if matches!(upper.as_str(), "L" | "W" | "?" | "#") || upper.contains(['L', 'W', '#']) {
        return Err(format!("`{text}` is EventBridge syntax; write the whole expression as `cron(...)` to use it"));
    }
    let n: u32 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
    if n < field.min || n > field.max {
        return Err(format!("{n} is outside {}-{}", field.min, field.max));
    }
    Ok((String::new(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        match to_expression(s) {
            Ok(Some(e)) => e,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn err(s: &str) -> ScheduleError {
        match to_expression(s) {
            Err(e) => e,
            Ok(e) => panic!("{s} converted to {e:?}, expected an error"),
        }
    }

    #[test]
    fn shortcuts() {
        assert_eq!(ok("@hourly"), "cron(0 * * * ? *)");
        assert_eq!(ok("@daily"), "cron(0 0 * * ? *)");
        assert_eq!(ok("@weekly"), "cron(0 0 ? * 1 *)");
        assert_eq!(ok("@monthly"), "cron(0 0 1 * ? *)");
        assert_eq!(ok("@yearly"), "cron(0 0 1 1 ? *)");
        assert_eq!(ok("@annually"), "cron(0 0 1 1 ? *)");
        assert_eq!(ok("  @daily "), "cron(0 0 * * ? *)");
        assert!(err("@fortnightly").message.contains("unknown schedule shortcut"));
    }

    #[test]
    fn every_becomes_a_rate() {
        assert_eq!(ok("@every 1m"), "rate(1 minute)");
        assert_eq!(ok("@every 5m"), "rate(5 minutes)");
        assert_eq!(ok("@every 1h30m"), "rate(90 minutes)");
        assert_eq!(ok("@every 60m"), "rate(1 hour)");
        assert_eq!(ok("@every 2h"), "rate(2 hours)");
        assert_eq!(ok("@every 24h"), "rate(1 day)");
        assert_eq!(ok("@every 120s"), "rate(2 minutes)");
    }

    #[test]
    fn every_refuses_sub_minute_and_partial_minutes() {
        assert!(err("@every 30s").message.contains("shorter than a minute"));
        assert!(err("@every 500ms").message.contains("shorter than a minute"));
        assert!(err("@every 90s").message.contains("whole number of minutes"));
        assert!(err("@every 1m30s").message.contains("whole number of minutes"));
        assert!(err("@every").message.contains("no duration"));
        assert!(err("@every 5").message.contains("without a unit"));
        assert!(err("@every 1d").message.contains("unknown unit"));
    }

    #[test]
    fn raw_expressions_pass_through() {
        assert_eq!(ok("rate(5 minutes)"), "rate(5 minutes)");
        assert_eq!(ok("rate(1 day)"), "rate(1 day)");
        assert_eq!(ok("cron(0 9 ? * MON-FRI *)"), "cron(0 9 ? * MON-FRI *)");
        assert_eq!(ok("cron(15 10 ? * 6L 2024-2026)"), "cron(15 10 ? * 6L 2024-2026)");
    }

    #[test]
    fn raw_expressions_are_checked() {
        assert_eq!(err("rate(1 minutes)").hint, "write `rate(1 minute)`");
        assert_eq!(err("rate(5 minute)").hint, "write `rate(5 minutes)`");
        assert!(err("rate(0 minutes)").message.contains("not a positive whole number"));
        assert!(err("rate(5 weeks)").message.contains("unknown unit"));
        assert!(err("rate(5)").message.contains("not `rate(<value> <unit>)`"));
        assert!(err("cron(0 9 * * 1-5)").message.contains("has 5 fields"));
        assert!(err("cron(0 9 * * * *)").message.contains("exactly one of"));
        assert!(err("cron(0 9 ? * ? *)").message.contains("exactly one of"));
        assert!(err("cron(0 9 * * ?").message.contains("not a complete expression"));
    }

    #[test]
    fn unix_cron_gets_question_mark_and_year() {
        assert_eq!(ok("* * * * *"), "cron(* * * * ? *)");
        assert_eq!(ok("30 2 * * *"), "cron(30 2 * * ? *)");
        assert_eq!(ok("0 0 1 * *"), "cron(0 0 1 * ? *)");
        assert_eq!(ok("0 0 1,15 * *"), "cron(0 0 1,15 * ? *)");
        assert_eq!(ok("*/15 * * * *"), "cron(0/15 * * * ? *)");
        assert_eq!(ok("0 */6 */2 * *"), "cron(0 0/6 1/2 * ? *)");
        assert_eq!(ok("0 12 * jan,jul *"), "cron(0 12 * JAN,JUL ? *)");
        assert_eq!(ok("0 12 ? 1-6 *"), "cron(0 12 * 1-6 ? *)");
    }

    #[test]
    fn unix_cron_days_of_week_shift_by_one() {
        assert_eq!(ok("0 9 * * 1-5"), "cron(0 9 ? * 2-6 *)");
        assert_eq!(ok("0 9 * * 0"), "cron(0 9 ? * 1 *)");
        assert_eq!(ok("0 9 * * 7"), "cron(0 9 ? * 1 *)");
        assert_eq!(ok("0 9 * * 6"), "cron(0 9 ? * 7 *)");
        assert_eq!(ok("0 9 * * 0,3,6"), "cron(0 9 ? * 1,4,7 *)");
        assert_eq!(ok("0 9 * * 0-6"), "cron(0 9 ? * 1-7 *)");
        assert_eq!(ok("0 9 * * 5-7"), "cron(0 9 ? * 6-7,1 *)");
        assert_eq!(ok("0 9 * * 0-7"), "cron(0 9 ? * 1-7 *)");
        assert_eq!(ok("0 9 * * */2"), "cron(0 9 ? * 1,3,5,7 *)");
        assert_eq!(ok("0 9 * * 1-5/2"), "cron(0 9 ? * 2,4,6 *)");
        assert_eq!(ok("0 9 * * 1/2"), "cron(0 9 ? * 2,4,6 *)");
        assert_eq!(ok("0 9 * * 1-7/2"), "cron(0 9 ? * 1,2,4,6 *)");
    }

    #[test]
    fn unix_cron_day_names_pass_through_uppercased() {
        assert_eq!(ok("0 9 * * MON-FRI"), "cron(0 9 ? * MON-FRI *)");
        assert_eq!(ok("0 9 * * mon,wed,fri"), "cron(0 9 ? * MON,WED,FRI *)");
        assert_eq!(ok("0 9 * * sun"), "cron(0 9 ? * SUN *)");
        assert_eq!(ok("0 9 * * MON,3"), "cron(0 9 ? * MON,4 *)");
    }

    #[test]
    fn unix_cron_errors() {
        assert!(err("0 9 1 * 1").message.contains("both the day of the month and the day of the week"));
        assert!(err("60 * * * *").message.contains("60 is outside 0-59"));
        assert!(err("0 24 * * *").message.contains("invalid hour"));
        assert!(err("0 0 0 * *").message.contains("invalid day-of-month"));
        assert!(err("0 0 * 13 *").message.contains("invalid month"));
        assert!(err("0 0 * * 8").message.contains("invalid day-of-week"));
        assert!(err("0 0 * * FUN").message.contains("not a number"));
        assert!(err("0 0 L * *").message.contains("EventBridge syntax"));
        assert!(err("0 0 * * 5-1").message.contains("runs backwards"));
        assert!(err("*/0 * * * *").message.contains("a step of 0"));
        assert!(err("0 9 * *").message.contains("five fields"));
        assert!(err("every day").message.contains("five fields"));
        assert!(err("").message.contains("empty"));
    }

    #[test]
    fn none_means_no_rule() {
        assert_eq!(to_expression("none"), Ok(None));
    }
}
