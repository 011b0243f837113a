use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::{NotifyError, Outbox};

/// One email, plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A short name of what it is (`verify_email`, `password_reset`), for the outbox and tags.
    pub kind: &'static str,
}

/// Amazon SES (v2 `SendEmail`) from a verified sender.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> SesMailer {
        SesMailer {
            client,
            from: from.into(),
        }
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), NotifyError> {
        let content = |s: &str| {
            Content::builder()
                .data(s)
                .charset("UTF-8")
                .build()
                .map_err(|e| NotifyError::Transport {
                    channel: "email",
                    source: Box::new(e),
                })
        };
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(
                Body::builder()
                    .text(content(&mail.text)?)
                    .html(content(&mail.html)?)
                    .build(),
            )
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| NotifyError::Transport {
                channel: "email",
                source: aws_sdk_sesv2::error::DisplayErrorContext(e)
                    .to_string()
                    .into(),
            })?;
        Ok(())
    }
}

/// The email port.
#[derive(Debug, Clone)]
pub enum Mailer {
    Disabled,
    Outbox(Outbox),
    Ses(SesMailer),
    DirectMail(super::DirectMailer),
}

impl Mailer {
    pub async fn send(&self, mail: &Mail) -> Result<(), NotifyError> {
        match self {
            Mailer::Disabled => Err(NotifyError::NotConfigured { channel: "email" }),
            Mailer::Outbox(o) => o.append(
                "mail",
                &serde_json::json!({
                    "to": mail.to,
                    "kind": mail.kind,
                    "subject": mail.subject,
                    "text": mail.text,
                    "at": chrono::Utc::now().to_rfc3339(),
                }),
            ),
            Mailer::Ses(s) => s.send(mail).await,
            Mailer::DirectMail(d) => d.send(mail).await,
        }
    }
}
