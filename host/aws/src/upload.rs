//! Executes a static site's upload step: makes the bucket hold exactly the
//! planned objects under the step's destination prefixes (changed files
//! uploaded, stale ones under those prefixes deleted — the bucket is
//! versioned, so a deletion can be undone; objects elsewhere in the bucket
//! are never touched) and invalidates the CloudFront cache when anything
//! changed. Unchanged files cost nothing but one listing. The caller resolves
//! `bucket` from the stack's own resources (see `ferry_core::upload`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use ferry_core::upload::PlannedObject;
use tokio::sync::Semaphore;

use crate::{AwsContext, AwsError};

/// A failure that is not an AWS answer (a file, a request that could not be built).
fn local(action: &str, resource: &str, error: impl std::fmt::Display) -> AwsError {
    AwsError::new(action, Some(resource), crate::AwsErrorKind::Other, error.to_string())
}

/// How many objects are uploaded at once.
const PARALLEL_UPLOADS: usize = 8;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UploadReport {
    pub uploaded: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub bytes_uploaded: u64,
    /// The CloudFront invalidation created, when something changed.
    pub invalidation: Option<String>,
}

/// Brings `bucket` in line with `objects`, deleting stale objects only under
/// `prefixes` (see `ferry_core::upload::destination_prefixes`); invalidates
/// `distribution` (all paths) when an object was uploaded or deleted.
pub async fn sync_site(
    aws: &AwsContext,
    bucket: &str,
    distribution: Option<&str>,
    objects: &BTreeMap<String, PlannedObject>,
    prefixes: &[String],
) -> Result<UploadReport, AwsError> {
    let s3 = aws.s3();
    let live = list_etags(&s3, bucket).await?;
    let mut report = UploadReport::default();

    let changed: Vec<&PlannedObject> =
        objects.values().filter(|o| live.get(&o.key).is_none_or(|etag| etag != &o.md5)).collect();
    report.unchanged = objects.len() - changed.len();
    let limit = Arc::new(Semaphore::new(PARALLEL_UPLOADS));
    let mut uploads = tokio::task::JoinSet::new();
    for object in changed {
        let (s3, bucket, object, limit) = (s3.clone(), bucket.to_string(), object.clone(), limit.clone());
        uploads.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let where_ = format!("s3://{bucket}/{}", object.key);
            let body = ByteStream::from_path(&object.path).await.map_err(|e| local("s3:PutObject", &where_, e))?;
            s3.put_object()
                .bucket(&bucket)
                .key(&object.key)
                .body(body)
                .content_type(object.content_type)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("s3:PutObject", Some(&where_), e))?;
            Ok::<u64, AwsError>(object.size)
        });
    }
    while let Some(done) = uploads.join_next().await {
        let size = done.map_err(|e| local("s3:PutObject", bucket, format!("upload task failed: {e}")))??;
        report.uploaded += 1;
        report.bytes_uploaded += size;
    }

    let mut stale: Vec<&String> =
        live.keys().filter(|k| !objects.contains_key(*k) && ferry_core::upload::under_prefixes(k, prefixes)).collect();
    stale.sort();
    for chunk in stale.chunks(1000) {
        let ids = chunk
            .iter()
            .map(|k| aws_sdk_s3::types::ObjectIdentifier::builder().key(k.as_str()).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| local("s3:DeleteObjects", bucket, e))?;
        let delete = aws_sdk_s3::types::Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| local("s3:DeleteObjects", bucket, e))?;
        s3.delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:DeleteObjects", Some(bucket), e))?;
        report.deleted += chunk.len();
    }

    if let Some(distribution) = distribution
        && report.uploaded + report.deleted > 0
    {
        report.invalidation = Some(invalidate_all(aws, distribution, objects).await?);
    }
    Ok(report)
}

/// Deletes every object version and delete marker of a versioned `bucket`,
/// so CloudFormation can delete it (a bucket with objects cannot be).
/// Returns how many were deleted; a bucket already gone is empty.
pub async fn empty_bucket(aws: &AwsContext, bucket: &str) -> Result<usize, AwsError> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let s3 = aws.s3();
    let mut deleted = 0;
    loop {
        // Each page is listed afresh: what was deleted no longer shows, and
        // the listing never runs ahead of the deletions.
        let page = match s3.list_object_versions().bucket(bucket).send().await {
            Ok(page) => page,
            Err(e) => {
                let err = AwsError::from_sdk("s3:ListObjectVersions", Some(bucket), e);
                return if err.kind == crate::AwsErrorKind::NotFound { Ok(deleted) } else { Err(err) };
            }
        };
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page.delete_markers().iter().map(|m| (m.key(), m.version_id()));
        let ids = versions
            .chain(markers)
            .filter_map(|(key, version)| {
                Some(ObjectIdentifier::builder().key(key?).set_version_id(version.map(String::from)))
            })
            .map(|id| id.build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| local("s3:DeleteObjects", bucket, e))?;
        if ids.is_empty() {
            return Ok(deleted);
        }
        let count = ids.len();
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| local("s3:DeleteObjects", bucket, e))?;
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:DeleteObjects", Some(bucket), e))?;
        if let Some(failed) = out.errors().first() {
            return Err(local(
                "s3:DeleteObjects",
                &format!("s3://{bucket}/{}", failed.key().unwrap_or_default()),
                failed.message().unwrap_or("refused"),
            ));
        }
        deleted += count;
    }
}

/// Current objects of the bucket and their ETags (quotes stripped).
async fn list_etags(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<HashMap<String, String>, AwsError> {
    let mut live = HashMap::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:ListObjectsV2", Some(bucket), e))?;
        for object in page.contents() {
            if let Some(key) = object.key() {
                live.insert(key.to_string(), object.e_tag().unwrap_or_default().trim_matches('"').to_string());
            }
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
            _ => return Ok(live),
        }
    }
}

/// Invalidates `/*`; the caller reference is the content's hash, so a retry
/// of the same upload does not create a second invalidation.
async fn invalidate_all(
    aws: &AwsContext,
    distribution: &str,
    objects: &BTreeMap<String, PlannedObject>,
) -> Result<String, AwsError> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for object in objects.values() {
        hasher.update(object.key.as_bytes());
        hasher.update(object.md5.as_bytes());
    }
    let reference = format!("ferry-{}", &hex::encode(hasher.finalize())[..32]);
    let paths = aws_sdk_cloudfront::types::Paths::builder()
        .quantity(1)
        .items("/*")
        .build()
        .map_err(|e| local("cloudfront:CreateInvalidation", distribution, e))?;
    let batch = aws_sdk_cloudfront::types::InvalidationBatch::builder()
        .paths(paths)
        .caller_reference(reference)
        .build()
        .map_err(|e| local("cloudfront:CreateInvalidation", distribution, e))?;
    let out = aws
        .cloudfront()
        .create_invalidation()
        .distribution_id(distribution)
        .invalidation_batch(batch)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudfront:CreateInvalidation", Some(distribution), e))?;
    Ok(out.invalidation().map(|i| i.id().to_string()).unwrap_or_default())
}
