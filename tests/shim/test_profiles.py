"""Storage profiles: finding and checking the file, precedence, per-prefix defaults, writing entries,
and routing a bare bucket name to each cloud's emulator with the profile's endpoint and region."""

from __future__ import annotations

import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage_shim import StorageError, create_storage_client
from storage_shim.profiles import (
    CONFIG_NAME,
    ProfileError,
    find_profiles,
    load_profiles,
    render_bucket_entry,
    update_bucket_entry,
    update_profile_entry,
)
from tests.servers import Emulator
from tests.servers.azure import ACCOUNT_KEY, ACCOUNT_NAME
from tests.servers.oci import create_bucket as create_oci_bucket
from tests.servers.oci import sdk_client as oci_sdk_client
from tests.servers.unreachable import black_hole

EXAMPLE = """\
# storage for the analytics jobs
[default]
provider = "local"
root = ".storage"

[buckets."raw-data"]   # the data lake
provider = "s3"
region = "eu-west-1"
endpoint = "env:S3_ENDPOINT_URL"

[buckets."raw-data/images/"]
content_type = "image/png"
metadata = { team = "vision" }

[buckets."raw-data/images/thumbnails/"]
content_type = "image/webp"

[buckets.scratch]
provider = "memory"
max_attempts = 1
"""


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in an empty directory, with no profile or provider from the environment."""
    for name in ("STORAGE_SHIM_CONFIG", "STORAGE_PROVIDER", "STORAGE_LOCAL_ROOT", "S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    return project


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# Reading and merging


def test_longest_prefix_wins_and_inherits_from_shorter_entries(tmp_path: Path) -> None:
    profiles = load_profiles(_write(tmp_path / CONFIG_NAME, EXAMPLE))
    assert profiles.settings("raw-data", "images/thumbnails/a.webp") == {
        "provider": "s3",
        "region": "eu-west-1",
        "endpoint": "env:S3_ENDPOINT_URL",
        "content_type": "image/webp",
        "metadata": {"team": "vision"},
    }
    assert "content_type" not in profiles.settings("raw-data", "images2/x")
    assert profiles.settings("elsewhere") == {"provider": "local", "root": ".storage"}
    assert profiles.settings("scratch") == {"provider": "memory", "max_attempts": 1}  # root was local's


def test_an_explicit_provider_keeps_only_the_neutral_settings(tmp_path: Path) -> None:
    profiles = load_profiles(_write(tmp_path / CONFIG_NAME, EXAMPLE))
    assert profiles.settings("raw-data", "images/", provider="gcs") == {
        "content_type": "image/png",
        "metadata": {"team": "vision"},
    }


def test_the_file_is_found_from_the_working_directory_upward(_isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(_isolated / CONFIG_NAME, EXAMPLE)
    deep = _isolated / "src" / "jobs"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    found = find_profiles().path
    assert found is not None and found.resolve() == (_isolated / CONFIG_NAME).resolve()
    assert create_storage_client("scratch").provider == "memory"


def test_a_pyproject_table_is_read_and_a_pyproject_without_one_is_passed_over(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        _isolated / "pyproject.toml",
        """\
        [project]
        name = "jobs"

        [tool.cloudshift.storage.buckets.scratch]
        provider = "memory"
        """,
    )
    _write(_isolated / "packages" / "inner" / "pyproject.toml", '[project]\nname = "inner"\n')
    monkeypatch.chdir(_isolated / "packages" / "inner")
    assert create_storage_client("scratch").provider == "memory"


def test_storage_shim_config_names_the_file_or_turns_profiles_off(
    tmp_path: Path, _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(_isolated / CONFIG_NAME, '[buckets.scratch]\nprovider = "memory"\n')
    elsewhere = _write(tmp_path / "elsewhere.toml", '[default]\nprovider = "memory"\n')
    monkeypatch.setenv("STORAGE_SHIM_CONFIG", str(elsewhere))
    assert create_storage_client("anything").provider == "memory"
    monkeypatch.setenv("STORAGE_SHIM_CONFIG", "none")
    assert create_storage_client("scratch").provider == "local"
    monkeypatch.setenv("STORAGE_SHIM_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ProfileError, match=r"missing\.toml"):
        create_storage_client("scratch")


def test_an_edited_file_is_read_again(_isolated: Path) -> None:
    config = _write(_isolated / CONFIG_NAME, '[buckets.scratch]\nprovider = "memory"\n')
    assert create_storage_client("scratch").provider == "memory"
    time.sleep(0.01)
    config.write_text('[buckets.scratch]\nprovider = "local"\nroot = "elsewhere"\n')
    assert create_storage_client("scratch").provider == "local"


# Precedence


def test_uri_and_provider_argument_beat_the_profile_which_beats_storage_provider(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(_isolated / CONFIG_NAME, '[buckets.scratch]\nprovider = "memory"\n[buckets.files]\nprovider = "local"\n')
    monkeypatch.setenv("STORAGE_PROVIDER", "memory")
    assert create_storage_client("files").provider == "local"  # the profile beats STORAGE_PROVIDER
    assert create_storage_client("unlisted").provider == "memory"  # no entry: STORAGE_PROVIDER
    assert create_storage_client("file:///tmp/x/scratch").provider == "local"
    assert create_storage_client("scratch", provider="local").provider == "local"
    assert create_storage_client("memory://files").provider == "memory"


def test_environment_overrides_beat_the_profile_and_options_beat_both(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(_isolated / CONFIG_NAME, '[buckets.scratch]\nprovider = "memory"\nmax_attempts = 1\n')
    assert create_storage_client("scratch").provider == "memory"
    monkeypatch.setenv("STORAGE_SHIM_MEMORY_ENDPOINT", "ignored: memory is not a cloud")
    assert create_storage_client("scratch").provider == "memory"
    monkeypatch.setenv("STORAGE_SHIM_S3_MAX_ATTEMPTS", "zero")
    with pytest.raises(ProfileError, match="STORAGE_SHIM_S3_MAX_ATTEMPTS"):
        create_storage_client("scratch", provider="s3")


# Defaults for new objects


def test_content_type_and_metadata_defaults_follow_the_longest_prefix(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    _write(
        _isolated / CONFIG_NAME,
        f"""\
        [buckets."{bucket}"]
        provider = "memory"
        metadata = {{ owner = "data" }}
        [buckets."{bucket}/images/"]
        content_type = "image/png"
        metadata = {{ owner = "vision", Kind = "picture" }}
        """,
    )
    client = create_storage_client(bucket)
    client.put("images/cat.png", b"png")
    client.put("images/dog.png", b"png", content_type="image/x-dog", metadata={"owner": "me"})
    client.put("notes.txt", b"text")
    assert (client.stat("images/cat.png").content_type, client.stat("images/cat.png").metadata) == (
        "image/png",
        {"owner": "vision", "kind": "picture"},
    )
    assert (client.stat("images/dog.png").content_type, client.stat("images/dog.png").metadata) == (
        "image/x-dog",
        {"owner": "me", "kind": "picture"},
    )
    assert (client.stat("notes.txt").content_type, client.stat("notes.txt").metadata) == (
        "application/octet-stream",
        {"owner": "data"},
    )
    scoped = create_storage_client(f"{bucket}/images")
    scoped.put("bird.png", b"png")
    assert scoped.stat("bird.png").content_type == "image/png"


def test_a_named_profile_gives_new_objects_its_content_type(_isolated: Path) -> None:
    """`cloudshift fix` records S3's own default in the profile a rewritten put names; it must apply."""
    bucket = f"raw-{uuid.uuid4().hex[:8]}"
    _write(
        _isolated / CONFIG_NAME,
        f"""\
        [profiles.s3]
        provider = "memory"
        content_type = "binary/octet-stream"
        [buckets."{bucket}/images/"]
        content_type = "image/png"
        """,
    )
    client = create_storage_client(bucket, storage_profile="s3")
    client.put("sensor.bin", b"raw")
    client.put("images/cat.png", b"png")
    client.put("notes.txt", b"text", content_type="text/plain")
    assert client.stat("sensor.bin").content_type == "binary/octet-stream"
    assert client.stat("images/cat.png").content_type == "image/png"  # the bucket's entry comes after the profile
    assert client.stat("notes.txt").content_type == "text/plain"


# Bad files


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('[buckets.b]\nprovider = "s3"\nregoin = "x"\n', 3, "regoin"),
        ('[buckets.b]\nprovider = "s3"\naws_secret_access_key = "wJalrXUtnFEMIK7MDENG"\n', 3, "env:MY_VARIABLE"),
        ('[buckets.b]\nprovider = "azure"\nconnection_string = "AccountName=a;AccountKey=c2VjcmV0"\n', 3, "env:"),
        ('[buckets.b]\nprovider = "s3"\nendpoint = "https://AKIA:hunter2@s3.example.com"\n', 3, "credential"),
        ('[buckets.b]\nregion = "eu-west-1"\n', 2, "no provider"),
        ('[buckets.b]\nprovider = "gcs"\nregion = "europe-west1"\n', 3, "not a gcs setting"),
        ('[buckets.b]\nprovider = "azure"\ncredentials = "profile:prod"\n', 3, "credential source"),
        ('[buckets.b]\nprovider = "dropbox"\n', 2, "unknown provider"),
        ('[buckets.b]\nprovider = "s3"\nconnect_timeout = -1\n', 3, "connect_timeout"),
        ('[buckets.b]\nprovider = "s3"\nmetadata = { team = 7 }\n', 3, "metadata"),
        ('[buckets.".."]\nprovider = "s3"\n', 1, "bucket name"),
        ("[profile.b]\n", 1, "unknown table"),
        ("[profiles.b]\n", 1, "must set its provider"),
        ('[profiles.b]\nprovider = "gcs"\nregion = "x"\n', 3, "not a gcs setting"),
        ('[buckets.b]\nprovider = "s3"\nregion = \n', 3, "not valid TOML"),
    ],
)
def test_bad_files_name_the_file_line_and_key(_isolated: Path, text: str, line: int, fragment: str) -> None:
    config = _write(_isolated / CONFIG_NAME, text)
    with pytest.raises(ProfileError) as raised:
        create_storage_client("b")
    message = str(raised.value)
    assert f"{config.resolve()}:{line}" in message and fragment in message, message
    assert "wJalrXUtnFEMIK7MDENG" not in message and "c2VjcmV0" not in message and "hunter2" not in message


def test_an_unset_env_reference_leaves_the_setting_out(_isolated: Path) -> None:
    _write(_isolated / CONFIG_NAME, '[buckets.b]\nprovider = "local"\nroot = "env:NO_SUCH_VARIABLE_AT_ALL"\n')
    create_storage_client("b").put("k", b"v")
    assert (_isolated / ".storage" / "b" / "k").read_bytes() == b"v"  # the default root


# Named profiles (what `cloudshift fix` writes and rewritten calls name)


def test_a_named_profile_applies_between_the_default_and_the_bucket_entries(_isolated: Path) -> None:
    _write(
        _isolated / CONFIG_NAME,
        '[default]\nprovider = "local"\nmax_attempts = 2\n'
        '[profiles.s3-eu-west-1]\nprovider = "s3"\nregion = "eu-west-1"\n'
        '[buckets.logs]\ncontent_type = "text/plain"\n',
    )
    profiles = find_profiles()
    assert profiles.settings("logs", profile="s3-eu-west-1") == {
        "provider": "s3",
        "max_attempts": 2,
        "region": "eu-west-1",
        "content_type": "text/plain",
    }
    assert profiles.settings("other", profile="s3-eu-west-1")["provider"] == "s3"
    assert profiles.settings("other") == {"provider": "local", "max_attempts": 2}


def test_a_profile_no_file_defines_is_an_error_never_the_local_default(_isolated: Path) -> None:
    with pytest.raises(ProfileError, match="no storage profile 's3'"):
        create_storage_client("logs", storage_profile="s3")
    _write(_isolated / CONFIG_NAME, '[profiles.s3]\nprovider = "s3"\n')
    with pytest.raises(ProfileError, match="no storage profile 'gcs' in"):
        create_storage_client("logs", storage_profile="gcs")


def test_a_profile_routes_code_that_names_it(_isolated: Path) -> None:
    update_profile_entry(_isolated / CONFIG_NAME, "scratch", {"provider": "local", "root": "kept"})
    create_storage_client("b", storage_profile="scratch").put("k", b"v")
    assert (_isolated / "kept" / "b" / "k").read_bytes() == b"v"


def test_update_profile_entry_writes_and_refuses_like_a_bucket_entry(tmp_path: Path) -> None:
    pyproject = _write(tmp_path / "pyproject.toml", '[project]\nname = "jobs"\n')
    update_profile_entry(pyproject, "s3-env-s3-endpoint", {"provider": "s3", "endpoint": "env:S3_ENDPOINT"})
    assert pyproject.read_text().endswith(
        '[tool.cloudshift.storage.profiles.s3-env-s3-endpoint]\nprovider = "s3"\nendpoint = "env:S3_ENDPOINT"\n'
    )
    assert load_profiles(pyproject).profiles == {
        "s3-env-s3-endpoint": {"provider": "s3", "endpoint": "env:S3_ENDPOINT"}
    }
    for name, settings in [("s3", {"region": "eu-west-1"}), ("bad name", {"provider": "s3"})]:
        with pytest.raises(ProfileError):
            update_profile_entry(pyproject, name, settings)


# Writing entries


def test_update_keeps_comments_and_other_entries_and_edits_in_place(tmp_path: Path) -> None:
    config = _write(tmp_path / CONFIG_NAME, EXAMPLE)
    update_bucket_entry(config, "raw-data", {"region": "us-east-2", "max_attempts": 5})
    update_bucket_entry(config, "new-bucket", {"provider": "gcs", "endpoint": "env:GCS_ENDPOINT"})
    text = config.read_text()
    assert text.startswith("# storage for the analytics jobs\n[default]\n")
    assert '[buckets."raw-data"]   # the data lake\n' in text
    assert 'region = "us-east-2"\nendpoint = "env:S3_ENDPOINT_URL"\nmax_attempts = 5\n' in text
    assert text.endswith('\n[buckets.new-bucket]\nprovider = "gcs"\nendpoint = "env:GCS_ENDPOINT"\n')
    profiles = load_profiles(config)
    assert profiles.buckets["raw-data"]["region"] == "us-east-2"
    assert profiles.buckets["raw-data/images/"] == {"content_type": "image/png", "metadata": {"team": "vision"}}
    before = config.read_text()
    update_bucket_entry(config, "raw-data", {"region": "us-east-2", "max_attempts": 5})
    assert config.read_text() == before  # writing the same entry again changes nothing


def test_an_updated_value_keeps_its_trailing_comment(tmp_path: Path) -> None:
    config = _write(tmp_path / CONFIG_NAME, '[buckets.b]\nprovider = "s3"\nregion = "eu-west-1"  # ask ops # first\n')
    update_bucket_entry(config, "b", {"region": "eu-central-1"})
    assert config.read_text() == '[buckets.b]\nprovider = "s3"\nregion = "eu-central-1"  # ask ops # first\n'


def test_update_creates_the_file_and_writes_under_tool_in_a_pyproject(tmp_path: Path) -> None:
    created = tmp_path / "fresh" / CONFIG_NAME
    update_bucket_entry(created, "logs", {"provider": "oci", "region": "us-phoenix-1"})
    assert load_profiles(created).buckets == {"logs": {"provider": "oci", "region": "us-phoenix-1"}}
    pyproject = _write(tmp_path / "pyproject.toml", '[project]\nname = "jobs"  # keep\n')
    update_bucket_entry(pyproject, "logs", {"provider": "s3", "endpoint": "env:S3_ENDPOINT_URL"})
    assert pyproject.read_text() == (
        '[project]\nname = "jobs"  # keep\n\n'
        '[tool.cloudshift.storage.buckets.logs]\nprovider = "s3"\nendpoint = "env:S3_ENDPOINT_URL"\n'
    )
    assert load_profiles(pyproject).buckets["logs"]["provider"] == "s3"


@pytest.mark.parametrize(
    ("existing", "settings"),
    [
        ('buckets = { b = { provider = "s3" } }\n', {"region": "eu-west-1"}),  # an inline table
        ('[buckets.b]\nprovider = "s3"\n', {"aws_secret_access_key": "not-a-reference"}),
        ('[buckets.b]\nprovider = "s3"\n', {"region": "eu-west-1", "colour": "blue"}),
        ('[buckets.b]\nprovider = "gcs"\n', {"region": "europe-west1"}),  # gcs has no region
        ('[buckets.b]\nprovider = "s3"\n[buckets."b/x/"]\nregion = "eu-west-1"\n', {"provider": "azure"}),
        ("", {"endpoint": "https://example.com"}),  # no provider anywhere
    ],
)
def test_update_refuses_what_it_cannot_write_and_leaves_the_file(
    tmp_path: Path, existing: str, settings: dict[str, Any]
) -> None:
    config = _write(tmp_path / CONFIG_NAME, existing)
    with pytest.raises(ProfileError):
        update_bucket_entry(config, "b", settings)
    assert config.read_text() == existing


def test_render_quotes_what_toml_needs_quoted() -> None:
    assert render_bucket_entry("raw-data/images/", {"provider": "s3", "metadata": {"run-id": 'a"b\\'}}) == (
        '[buckets."raw-data/images/"]\nprovider = "s3"\nmetadata = { run-id = "a\\"b\\\\" }\n'
    )
    with pytest.raises(ProfileError, match="metadata"):
        render_bucket_entry("b", {"provider": "s3", "metadata": {"run id": "x"}})


# Routing to the emulators


def _profile(directory: Path, bucket: str, entry: str) -> None:
    _write(directory / CONFIG_NAME, f'[buckets."{bucket}"]\n' + textwrap.dedent(entry))


@pytest.fixture
def emulator_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Apply an emulator's environment without the variables that would route the SDK on their own."""

    def apply(server: Emulator, *without: str) -> None:
        for name, value in server.env.items():
            if name in without:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)

    monkeypatch.setenv("STORAGE_PROVIDER", "local")  # the profile must beat it
    yield apply


def test_a_profile_routes_a_bare_bucket_to_s3_with_its_endpoint_and_region(
    s3_server: Emulator, emulator_env: Any, _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    emulator_env(s3_server, "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")
    monkeypatch.setenv("LAKE_S3_ENDPOINT", s3_server.endpoint)
    bucket = f"profiled-{uuid.uuid4().hex[:12]}"
    direct = boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="eu-west-1")
    direct.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    _profile(_isolated, bucket, 'provider = "s3"\nregion = "eu-west-1"\nendpoint = "env:LAKE_S3_ENDPOINT"\n')
    client = create_storage_client(bucket)
    client.put("k", b"through the profile")
    assert client.provider == "s3"
    assert direct.get_object(Bucket=bucket, Key="k")["Body"].read() == b"through the profile"
    assert "%2Feu-west-1%2Fs3%2F" in client.get_presigned_url("k")  # signed for the profile's region


def test_a_profile_routes_a_bare_bucket_to_gcs_with_its_endpoint(
    gcs_server: Emulator, emulator_env: Any, _isolated: Path
) -> None:
    from google.cloud import storage

    emulator_env(gcs_server, "STORAGE_EMULATOR_HOST")  # credentials: the key file, whose token endpoint is local
    bucket = f"profiled-{uuid.uuid4().hex[:12]}"
    direct = storage.Client(client_options={"api_endpoint": gcs_server.endpoint})
    direct.create_bucket(bucket)
    _profile(_isolated, bucket, f'provider = "gcs"\nendpoint = "{gcs_server.endpoint}"\n')
    client = create_storage_client(bucket)
    client.put("k", b"through the profile")
    assert client.provider == "gcs"
    assert direct.bucket(bucket).blob("k").download_as_bytes() == b"through the profile"


def test_a_profile_routes_a_bare_bucket_to_azure_with_its_endpoint_and_key_reference(
    azure_server: Emulator, emulator_env: Any, _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.storage.blob import BlobServiceClient

    emulator_env(azure_server, "AZURE_STORAGE_CONNECTION_STRING")
    monkeypatch.setenv("LAKE_AZURE_KEY", ACCOUNT_KEY)
    container = f"profiled-{uuid.uuid4().hex[:12]}"
    account_url = f"{azure_server.endpoint}/{ACCOUNT_NAME}"
    direct = BlobServiceClient(account_url, credential={"account_name": ACCOUNT_NAME, "account_key": ACCOUNT_KEY})
    direct.create_container(container)
    _profile(
        _isolated, container, f'provider = "azure"\nendpoint = "{account_url}"\naccount_key = "env:LAKE_AZURE_KEY"\n'
    )
    client = create_storage_client(container)
    client.put("k", b"through the profile")
    assert client.provider == "azure"
    assert direct.get_blob_client(container, "k").download_blob().readall() == b"through the profile"


def test_a_profile_routes_a_bare_bucket_to_oci_with_its_endpoint_region_and_profile(
    oci_server: Emulator, emulator_env: Any, _isolated: Path
) -> None:
    emulator_env(oci_server, "OCI_OBJECT_STORAGE_ENDPOINT", "OCI_CONFIG_PROFILE", "HTTPS_PROXY", "https_proxy")
    bucket = f"profiled-{uuid.uuid4().hex[:12]}"
    create_oci_bucket(oci_server, bucket)
    _profile(
        _isolated,
        bucket,
        f'provider = "oci"\nendpoint = "{oci_server.endpoint}"\nregion = "us-phoenix-1"\n'
        'credentials = "profile:DEFAULT"\n',
    )
    client = create_storage_client(bucket)
    client.put("k", b"through the profile")
    assert client.provider == "oci"
    assert client._backend.connection.region == "us-phoenix-1"
    direct = oci_sdk_client(oci_server.env)
    namespace = oci_server.env["OCI_OBJECT_STORAGE_NAMESPACE"]
    assert direct.get_object(namespace, bucket, "k").data.content == b"through the profile"


def test_profile_timeouts_apply(s3_server: Emulator, emulator_env: Any, _isolated: Path) -> None:
    emulator_env(s3_server, "AWS_ENDPOINT_URL")
    with black_hole() as url:
        _profile(_isolated, "slow", f'provider = "s3"\nendpoint = "{url}"\nconnect_timeout = 0.5\nmax_attempts = 1\n')
        client = create_storage_client("slow")
        start = time.monotonic()
        with pytest.raises(StorageError):
            client.get("k")
        assert time.monotonic() - start < 3
