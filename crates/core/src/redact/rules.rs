//! The rules of [`Redactor`], one function per kind of secret, applied argument by argument
//! from the first to the last (an option can make the next argument a secret).

use super::{REDACTED, Redactor, ShortOption};
use std::borrow::Cow;

/// Authentication scheme words kept in front of a header's credential.
const SCHEMES: [&str; 7] = [
    "bearer",
    "basic",
    "digest",
    "token",
    "negotiate",
    "ntlm",
    "aws4-hmac-sha256",
];

/// What an argument says about the ones after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// The next argument is a secret (`--password X`).
    Value,
    /// The next argument is a header's value (`Authorization:` alone): a scheme word is
    /// kept, and the credential after it goes.
    HeaderValue,
    /// In a joined command line, the words after a header's credential up to the next
    /// option or URL: its value may have spaces (`Cookie: a=1; b=2`).
    HeaderRest,
}

pub(super) fn redact_args(r: &Redactor, args: &mut [String], line: bool) -> u32 {
    let mut count = 0;
    let mut program: &[ShortOption] = &[];
    let mut next = None;
    for arg in args.iter_mut() {
        match next.take() {
            Some(Next::Value) => {
                count += replace_from(arg, 0);
                continue;
            }
            Some(Next::HeaderValue) if is_scheme(arg) => {
                next = Some(Next::HeaderValue);
                continue;
            }
            Some(Next::HeaderValue) => {
                count += replace_from(arg, 0);
                next = line.then_some(Next::HeaderRest);
                continue;
            }
            Some(Next::HeaderRest) if !arg.starts_with('-') && !arg.contains("://") => {
                replace_from(arg, 0);
                next = Some(Next::HeaderRest);
                continue;
            }
            Some(Next::HeaderRest) | None => {}
        }
        if let Some(opts) = r.short_options.get(basename(arg)) {
            program = opts;
            continue;
        }
        let (n, then) = redact_one(r, program, arg, line);
        count += n;
        next = then;
    }
    count
}

fn redact_one(
    r: &Redactor,
    program: &[ShortOption],
    arg: &mut String,
    line: bool,
) -> (u32, Option<Next>) {
    if let Some(rest) = arg.strip_prefix("--") {
        let (name, glued) = match rest.split_once('=') {
            Some((name, _)) => (name, true),
            None => (rest, false),
        };
        let exact = r.options.iter().any(|o| o.eq_ignore_ascii_case(name));
        if glued && (exact || r.secret_name(name)) {
            let at = 2 + name.len() + 1;
            return (replace_from(arg, at), None);
        }
        if exact {
            return (0, Some(Next::Value));
        }
    } else if let Some(rest) = arg.strip_prefix('-')
        && let Some(letter) = rest.chars().next()
        && let Some(opt) = program.iter().find(|o| o.letter == letter)
    {
        let at = 1 + letter.len_utf8();
        if arg.len() > at {
            return (replace_from(arg, at), None);
        }
        return (0, opt.separate.then_some(Next::Value));
    }
    let (mut n, next) = header(r, arg, line);
    if r.url_credentials {
        n += url_passwords(arg);
    }
    n += env_pairs(r, arg);
    (n, next)
}

impl Redactor {
    /// Whether a `NAME=` (or `--name=`) looks like it holds a secret.
    fn secret_name(&self, name: &str) -> bool {
        let name = name.to_uppercase().replace('-', "_");
        self.env_names.iter().any(|s| name.contains(s.as_str()))
    }
}

/// `Name: value` with a configured header name: the value goes, a scheme word stays.
fn header(r: &Redactor, arg: &mut String, line: bool) -> (u32, Option<Next>) {
    if !arg.contains(':') {
        return (0, None);
    }
    let lower = arg.to_ascii_lowercase();
    let Some(colon) = r
        .headers
        .iter()
        .filter_map(|h| header_colon(&lower, h))
        .min()
    else {
        return (0, None);
    };
    let value_at = colon + 1 + count_blanks(&arg[colon + 1..]);
    if value_at == arg.len() {
        return (0, Some(Next::HeaderValue));
    }
    let value = &arg[value_at..];
    let word = value.split([' ', '\t']).next().unwrap_or_default();
    if is_scheme(word) {
        let cred_at = value_at + word.len();
        let cred_at = cred_at + count_blanks(&arg[cred_at..]);
        if cred_at == arg.len() {
            // "Bearer" ends the argument: the credential is the next one.
            return (0, Some(Next::HeaderValue));
        }
        let n = replace_from(arg, cred_at);
        return (n, line.then_some(Next::HeaderRest));
    }
    (
        replace_from(arg, value_at),
        line.then_some(Next::HeaderRest),
    )
}

/// Where the colon after header `name` is in `lower`, if the name stands alone there.
fn header_colon(lower: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = lower[from..].find(name) {
        let start = from + p;
        let end = start + name.len();
        // curl's `-HName: value` glues the header to its option.
        let bounded = &lower[..start] == "-h"
            || lower[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_'));
        let colon = end + count_blanks(&lower[end..]);
        if bounded && lower[colon..].starts_with(':') {
            return Some(colon);
        }
        from = end;
    }
    None
}

/// The password of each `scheme://user:password@host` in the argument.
fn url_passwords(arg: &mut String) -> u32 {
    let mut n = 0;
    let mut from = 0;
    while let Some(p) = arg[from..].find("://") {
        let start = from + p + 3;
        let tail = &arg[start..];
        let end = tail
            .find(['/', '?', '#', ' ', '"', '\''])
            .unwrap_or(tail.len());
        // The next URL may begin inside what looked like this one's authority
        // (`a://x;https://u:p@h`): the scan goes on right after this `://`.
        from = start;
        let authority = &tail[..end];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let Some(colon) = authority[..at].find(':') else {
            continue;
        };
        let password = &authority[colon + 1..at];
        if password.is_empty() || password == REDACTED {
            continue;
        }
        let range = start + colon + 1..start + at;
        from = range.start + REDACTED.len();
        arg.replace_range(range, REDACTED);
        n += 1;
    }
    n
}

/// `NAME=value` items (the whole argument, or a comma-separated list, or after a
/// `--option=`) whose NAME looks secret. Items after a secret one that are not
/// `key=value` belong to its value (it had a comma) and go with it.
fn env_pairs(r: &Redactor, arg: &mut String) -> u32 {
    if !arg.contains('=') {
        return 0;
    }
    let prefix = match arg.strip_prefix('-') {
        Some(_) => match arg.find('=') {
            Some(eq) => eq + 1,
            None => return 0,
        },
        None => 0,
    };
    let mut n = 0;
    let mut in_secret = false;
    let mut items: Vec<Cow<str>> = Vec::new();
    for item in arg[prefix..].split(',') {
        match pair_key(item) {
            Some(key) if r.secret_name(key) => {
                in_secret = true;
                let value = &item[key.len() + 1..];
                if value.is_empty() || value == REDACTED {
                    items.push(Cow::Borrowed(item));
                } else {
                    n += 1;
                    items.push(Cow::Owned(format!("{key}={REDACTED}")));
                }
            }
            Some(_) => {
                in_secret = false;
                items.push(Cow::Borrowed(item));
            }
            None if in_secret => {}
            None => items.push(Cow::Borrowed(item)),
        }
    }
    if n > 0 {
        *arg = format!("{}{}", &arg[..prefix], items.join(","));
    }
    n
}

/// `NAME` of an item `NAME=value`, NAME an identifier (letters, digits, `_`, `-`, `.`).
fn pair_key(item: &str) -> Option<&str> {
    let (key, _) = item.split_once('=')?;
    let mut chars = key.chars();
    let first = chars.next()?;
    let ident = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ident.then_some(key)
}

/// Replaces `arg[at..]` with [`REDACTED`]; 1 if there was something to redact.
fn replace_from(arg: &mut String, at: usize) -> u32 {
    let rest = &arg[at..];
    if rest.is_empty() || rest == REDACTED {
        return 0;
    }
    arg.truncate(at);
    arg.push_str(REDACTED);
    1
}

fn is_scheme(word: &str) -> bool {
    SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(word))
}

fn count_blanks(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\t']).len()
}

fn basename(arg: &str) -> &str {
    arg.rsplit('/').next().unwrap_or(arg)
}
