"""catalog: product reports in S3, exports mirrored to Google Cloud Storage."""
