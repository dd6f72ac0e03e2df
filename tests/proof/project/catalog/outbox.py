"""Not an SDK: our own outbox, whose methods happen to share boto3's names."""


class Outbox:
    """Collects messages in memory until they are flushed."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def put_object(self, Bucket: str, Key: str, Body: str) -> None:
        self.sent.append((f"{Bucket}/{Key}", Body))

    def upload_file(self, path: str, bucket: str, key: str) -> None:
        self.sent.append((f"{bucket}/{key}", path))


def notify(product: str) -> list[tuple[str, str]]:
    s3 = Outbox()
    s3.put_object(Bucket="notifications", Key=product, Body="report updated")
    s3.upload_file("summary.txt", "notifications", f"{product}/summary")
    return s3.sent
