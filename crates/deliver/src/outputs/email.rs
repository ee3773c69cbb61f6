//! Email over SMTP (lettre): STARTTLS, implicit TLS or plain for a local relay, with
//! optional auth; one message per group, plain text plus a small HTML part.

use super::text::{html_escape, line, summary};
use super::{BuildError, Context, Output, SendError, utc};
use crate::config::{EmailConfig, SmtpTls};
use crate::route::subject_label;
use crate::secret::value_or_file;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use netsnoop_core::Alert;
use std::time::Duration;

pub struct Email {
    transport: SmtpTransport,
    from: Mailbox,
    to: Vec<Mailbox>,
    prefix: String,
}

fn mailbox(s: &str, key: &str) -> Result<Mailbox, BuildError> {
    s.parse().map_err(|e| {
        BuildError::Invalid(format!(
            "email.{key} {s:?} is no address ({e}): write name@example.org or \"Name <name@example.org>\""
        ))
    })
}

impl Email {
    pub fn new(c: &EmailConfig, timeout: Duration) -> Result<Email, BuildError> {
        let smtp = |e: lettre::transport::smtp::Error| {
            BuildError::Invalid(format!("cannot set up SMTP to {}: {e}", c.host))
        };
        let builder = match c.tls {
            SmtpTls::Starttls => SmtpTransport::starttls_relay(&c.host).map_err(smtp)?,
            SmtpTls::Tls => SmtpTransport::relay(&c.host).map_err(smtp)?,
            SmtpTls::None => SmtpTransport::builder_dangerous(&c.host),
        };
        let port = c.port.unwrap_or(match c.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        });
        let mut builder = builder.port(port).timeout(Some(timeout));
        let password = value_or_file(c.password.as_ref(), c.password_file.as_deref())?;
        match (&c.username, password) {
            (Some(user), Some(pw)) => {
                builder = builder.credentials(Credentials::new(user.clone(), pw));
            }
            (None, None) => {}
            _ => {
                return Err(BuildError::Invalid(
                    "email needs both username and password (or password_file) for auth, or neither"
                        .into(),
                ));
            }
        }
        Ok(Email {
            transport: builder.build(),
            from: mailbox(&c.from, "from")?,
            to: c
                .to
                .iter()
                .map(|t| mailbox(t, "to"))
                .collect::<Result<_, _>>()?,
            prefix: c.subject_prefix.clone(),
        })
    }
}

/// The plain-text body: one block per alert.
pub fn text_body(alerts: &[Alert], host: &str) -> String {
    let mut out = format!("{}\n\n", summary(alerts, host));
    for a in alerts {
        out.push_str(&line(a));
        out.push_str(&format!(
            "\n  host: {host}\n  since: {}\n  episode: {}\n  details: {}\n\n",
            utc(a.first_seen),
            a.id,
            a.details
        ));
    }
    out
}

/// The HTML body: a small table, every alert string escaped.
pub fn html_body(alerts: &[Alert], host: &str) -> String {
    let mut rows = String::new();
    for a in alerts {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            if a.is_active() { "FIRING" } else { "RESOLVED" },
            html_escape(a.display_label()),
            html_escape(&a.kind),
            html_escape(&subject_label(a)),
            html_escape(&a.message),
            utc(a.first_seen),
        ));
    }
    format!(
        "<html><body><h3>{}</h3>\n<table border=\"1\" cellpadding=\"4\">\n\
         <tr><th>status</th><th>severity</th><th>kind</th><th>subject</th><th>message</th><th>since</th></tr>\n\
         {rows}</table></body></html>\n",
        html_escape(&summary(alerts, host))
    )
}

impl Output for Email {
    fn send(&mut self, alerts: &[Alert], ctx: &Context) -> Result<(), SendError> {
        let mut m = Message::builder()
            .from(self.from.clone())
            .subject(format!("{} {}", self.prefix, summary(alerts, &ctx.host)).trim());
        for to in &self.to {
            m = m.to(to.clone());
        }
        let msg = m
            .multipart(MultiPart::alternative_plain_html(
                text_body(alerts, &ctx.host),
                html_body(alerts, &ctx.host),
            ))
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;
        self.transport.send(&msg).map(|_| ()).map_err(|e| {
            if e.is_permanent() {
                SendError::Permanent(format!("SMTP: {e}"))
            } else {
                SendError::Transient(format!("SMTP: {e}"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::alert;
    use netsnoop_core::Severity;

    #[test]
    fn the_html_part_shows_alert_text_as_text() {
        let mut a = alert("a", "cpu.system", Severity::High);
        a.message = "<img src=x onerror=alert(1)>".into();
        let html = html_body(&[a], "web-1");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!html.contains("<img"));
    }
}
