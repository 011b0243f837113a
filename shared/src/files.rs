//! The S3 adapter: presigned uploads and the worker's reads and writes. SDK types stay here.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("s3 {op} failed: {message}")]
    S3 { op: &'static str, message: String },
}

fn s3_err<E>(op: &'static str, e: aws_sdk_s3::error::SdkError<E>) -> FilesError
where
    E: std::error::Error + 'static,
{
    FilesError::S3 {
        op,
        message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
    }
}

/// How long a presigned URL works.
fn presigning(expires_in: Duration) -> Result<PresigningConfig, FilesError> {
    PresigningConfig::expires_in(expires_in).map_err(|e| FilesError::S3 {
        op: "presign",
        message: e.to_string(),
    })
}

/// A presigned `PUT`: the client sends exactly these headers, or S3 refuses the upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedPut {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// How long an upload URL works.
const UPLOAD_URL_TTL_SECS: u64 = 600;

/// What a client needs to upload one file: the presigned PUT, the key it will have, and when
/// the URL stops working.
#[derive(Debug, Clone)]
pub struct UploadTicket {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub key: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// An uploaded object read through once: its first bytes, its length and its SHA-256.
#[derive(Debug)]
pub enum Scanned {
    Read {
        head: Vec<u8>,
        size: u64,
        sha256: String,
        /// The type it was uploaded as (the upload URL signs it).
        content_type: Option<String>,
        /// All of it, when it was asked for and is at most that long.
        whole: Option<Vec<u8>>,
    },
    TooLarge(u64),
    Missing,
}

/// How long a download URL works: long enough to start a large download, short enough that
/// a forwarded link soon stops working.
pub const DOWNLOAD_URL_TTL_SECS: u64 = 900;

/// An object read back, with the size S3 reports.
#[derive(Debug)]
pub enum Fetched {
    Bytes(Vec<u8>),
    TooLarge(u64),
    Missing,
}

#[derive(Debug, Clone)]
pub struct Files {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl Files {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Files {
        Files {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A URL that uploads exactly `content_length` bytes of `content_type` to `key` within
    /// `expires_in`. Both headers are signed, so a larger or differently typed body is refused
    /// by S3 itself.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedPut, FilesError> {
        let config = presigning(expires_in)?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(i64::try_from(content_length).unwrap_or(i64::MAX))
            .presigned(config)
            .await
            .map_err(|e| s3_err("presign", e))?;

        Ok(PresignedPut {
            url: req.uri().to_owned(),
            headers: req
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        })
    }

    /// A ticket for uploading exactly `content_length` bytes of `content_type` to `key`,
    /// valid for [`UPLOAD_URL_TTL_SECS`] from `now`.
    pub async fn upload_ticket(
        &self,
        key: String,
        content_type: &str,
        content_length: u64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<UploadTicket, FilesError> {
        let put = self
            .presign_put(
                &key,
                content_type,
                content_length,
                Duration::from_secs(UPLOAD_URL_TTL_SECS),
            )
            .await?;
        Ok(UploadTicket {
            url: put.url,
            headers: put.headers,
            key,
            expires_at: now + chrono::Duration::seconds(UPLOAD_URL_TTL_SECS as i64),
        })
    }

    /// Reads `key` if it is at most `max_bytes` long.
    pub async fn get(&self, key: &str, max_bytes: u64) -> Result<Fetched, FilesError> {
        let Some(out) = self.open(key, None).await? else {
            return Ok(Fetched::Missing);
        };
        let size = u64::try_from(out.content_length().unwrap_or(0)).unwrap_or(0);
        if size > max_bytes {
            return Ok(Fetched::TooLarge(size));
        }
        let bytes = out.body.collect().await.map_err(|e| FilesError::S3 {
            op: "GetObject body",
            message: e.to_string(),
        })?;
        let bytes = bytes.into_bytes().to_vec();
        if bytes.len() as u64 > max_bytes {
            return Ok(Fetched::TooLarge(bytes.len() as u64));
        }
        Ok(Fetched::Bytes(bytes))
    }

    /// Stores public media (cached for a year: a new version gets a new key).
    pub async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), FilesError> {
        self.put_object(
            key,
            bytes,
            content_type,
            "public, max-age=31536000, immutable",
            None,
        )
        .await
    }

    /// Stores a private file (never cached by a CDN) that browsers save as `download_name`.
    pub async fn put_private(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        download_name: &str,
    ) -> Result<(), FilesError> {
        self.put_object(
            key,
            bytes,
            content_type,
            "private, no-store",
            Some(attachment(download_name)),
        )
        .await
    }

    async fn put_object(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        cache_control: &str,
        disposition: Option<String>,
    ) -> Result<(), FilesError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_content_disposition(disposition)
            .cache_control(cache_control)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| s3_err("PutObject", e))?;
        Ok(())
    }

    /// A URL that downloads `key` within `expires_in` (signed with the caller's credentials,
    /// so it needs their `s3:GetObject` and stops working when those expire, whichever is
    /// first).
    pub async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, FilesError> {
        self.presign_download(key, expires_in, None).await
    }

    /// A presigned GET of `key`, optionally answered with `disposition`.
    async fn presign_download(
        &self,
        key: &str,
        expires_in: Duration,
        disposition: Option<String>,
    ) -> Result<String, FilesError> {
        let config = presigning(expires_in)?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_response_content_disposition(disposition)
            .presigned(config)
            .await
            .map_err(|e| s3_err("presign", e))?;
        Ok(req.uri().to_owned())
    }

    /// `GetObject` of `key` (a `range` of it), or `None` when it does not exist.
    async fn open(
        &self,
        key: &str,
        range: Option<String>,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, FilesError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_range(range)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(s3_err("GetObject", e)),
        }
    }

    /// The first `n` bytes of `key` (a ranged GET), or `None` when it does not exist.
    pub async fn head_bytes(&self, key: &str, n: u64) -> Result<Option<Vec<u8>>, FilesError> {
        let range = format!("bytes=0-{}", n.saturating_sub(1));
        let Some(out) = self.open(key, Some(range)).await? else {
            return Ok(None);
        };
        let bytes = out.body.collect().await.map_err(|e| FilesError::S3 {
            op: "GetObject body",
            message: e.to_string(),
        })?;
        let mut bytes = bytes.into_bytes().to_vec();
        bytes.truncate(usize::try_from(n).unwrap_or(usize::MAX));
        Ok(Some(bytes))
    }

    /// Reads `key` through once when it is at most `max_bytes` long, holding no more than
    /// `head_len` bytes — unless it is at most `keep_whole` bytes long, when all of it is
    /// kept (so a picture is not read a second time to make its preview).
    pub async fn scan(
        &self,
        key: &str,
        (head_len, keep_whole): (usize, u64),
        max_bytes: u64,
    ) -> Result<Scanned, FilesError> {
        let Some(mut out) = self.open(key, None).await? else {
            return Ok(Scanned::Missing);
        };
        let length = u64::try_from(out.content_length().unwrap_or(0)).unwrap_or(0);
        if length > max_bytes {
            return Ok(Scanned::TooLarge(length));
        }
        let content_type = out.content_type().map(str::to_owned);
        let mut whole = (length <= keep_whole).then(Vec::new);
        let mut digest = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let mut head = Vec::with_capacity(head_len);
        let mut size = 0u64;
        while let Some(chunk) = out.body.try_next().await.map_err(|e| FilesError::S3 {
            op: "GetObject body",
            message: e.to_string(),
        })? {
            size += chunk.len() as u64;
            if size > max_bytes {
                return Ok(Scanned::TooLarge(size));
            }
            if head.len() < head_len {
                let take = (head_len - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            digest.update(&chunk);
            if let Some(all) = whole.as_mut() {
                if size > keep_whole {
                    whole = None;
                } else {
                    all.extend_from_slice(&chunk);
                }
            }
        }
        Ok(Scanned::Read {
            head,
            size,
            sha256: hex(digest.finish().as_ref()),
            content_type,
            whole,
        })
    }

    /// Copies an upload to where a checked private file is kept: never cached, saved by
    /// browsers as `download_name`.
    pub async fn copy_private(
        &self,
        from: &str,
        to: &str,
        content_type: &str,
        download_name: &str,
    ) -> Result<(), FilesError> {
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{}", self.bucket, copy_source_key(from)))
            .key(to)
            .content_type(content_type)
            .content_disposition(attachment(download_name))
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .cache_control("private, no-store")
            .send()
            .await
            .map_err(|e| s3_err("CopyObject", e))?;
        Ok(())
    }

    /// A download URL for a private file, valid [`DOWNLOAD_URL_TTL_SECS`], that saves it as
    /// `download_name`.
    pub async fn download_url(
        &self,
        key: &str,
        download_name: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(String, chrono::DateTime<chrono::Utc>), FilesError> {
        let url = self
            .presign_download(
                key,
                Duration::from_secs(DOWNLOAD_URL_TTL_SECS),
                Some(attachment(download_name)),
            )
            .await?;
        Ok((
            url,
            now + chrono::Duration::seconds(DOWNLOAD_URL_TTL_SECS as i64),
        ))
    }

    /// Copies `from` to `to` inside the bucket (server side).
    pub async fn copy(&self, from: &str, to: &str, content_type: &str) -> Result<(), FilesError> {
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{from}", self.bucket))
            .key(to)
            .content_type(content_type)
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .cache_control("public, max-age=31536000, immutable")
            .send()
            .await
            .map_err(|e| s3_err("CopyObject", e))?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> Result<(), FilesError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_err("DeleteObject", e))?;
        Ok(())
    }
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key as `CopySource` takes it: URL-encoded, slashes kept.
fn copy_source_key(key: &str) -> String {
    percent_encoding::utf8_percent_encode(key, COPY_SOURCE).to_string()
}

const COPY_SOURCE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A `Content-Disposition` that saves as `name`: ASCII names as they are, others also as
/// RFC 5987 UTF-8.
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if ascii == name {
        format!("attachment; filename=\"{name}\"")
    } else {
        let encoded: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
    }
}

/// An upload read through once, as an attachment is when it is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUpload {
    pub head: Vec<u8>,
    pub size: u64,
    pub sha256: String,
    /// The type it was uploaded as (the upload URL signed it).
    pub content_type: String,
}

impl CheckedUpload {
    /// Whether its bytes are what it was uploaded as (its signature, like every other file).
    pub fn is_what_it_says(&self) -> bool {
        crate::domain::file::judge(&self.content_type, &self.head).is_ok()
    }
}

/// Why an upload cannot be attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadProblem {
    /// Nothing was uploaded under the key.
    Missing,
    /// Longer than allowed.
    TooLarge,
}

impl Files {
    /// Reads the upload under `key` through once (at most `max_bytes`): there and within its
    /// size. Whether it is what it says is [`CheckedUpload::is_what_it_says`].
    pub async fn check_uploaded(
        &self,
        key: &str,
        max_bytes: u64,
    ) -> Result<Result<CheckedUpload, UploadProblem>, FilesError> {
        let scanned = self
            .scan(key, (crate::domain::file::HEAD_BYTES, 0), max_bytes)
            .await?;
        let (head, size, sha256, declared) = match scanned {
            Scanned::Missing => return Ok(Err(UploadProblem::Missing)),
            Scanned::TooLarge(_) => return Ok(Err(UploadProblem::TooLarge)),
            Scanned::Read {
                head,
                size,
                sha256,
                content_type,
                ..
            } => (head, size, sha256, content_type.unwrap_or_default()),
        };
        Ok(Ok(CheckedUpload {
            head,
            size,
            sha256,
            content_type: declared,
        }))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn downloads_save_under_their_name_in_any_script() {
        assert_eq!(
            super::attachment("gigbao-export-20261202.json"),
            "attachment; filename=\"gigbao-export-20261202.json\""
        );
        assert_eq!(
            super::attachment("设计稿 v2.pdf"),
            "attachment; filename=\"____v2.pdf\"; filename*=UTF-8''%E8%AE%BE%E8%AE%A1%E7%A8%BF%20v2.pdf"
        );
    }
}
