"""A look-alike: our own uploader class. cloudshift must not touch it."""


class Uploader:
    def upload_file(self, path: str, bucket: str, key: str) -> None:
        print(f"would upload {path} to {bucket}/{key}")


def ship(path: str) -> None:
    s3 = Uploader()
    s3.upload_file(path, "bucket", "key")
