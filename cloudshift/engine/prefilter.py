"""Which files can hold SDK calls, decided on text alone so most files are never parsed.

LibCST parses ~15k lines/s per core; a regex over the text is two orders of magnitude
faster. A file is a candidate only if it imports one of the rule files' modules and mentions
a name through which an SDK object can be obtained (a constructor, factory or annotation).
Both tests are sound: a file failing either cannot contain a finding the resolver would make.
A file that only calls an SDK object handed to it from outside the project is a candidate when
it spells such a call the way only the SDK's are spelled (an object's `call_shape`), or when a
candidate imports it and it calls a method by one of the SDK objects' compound names
(`get_blob_properties`, `upload_file`): a helper module that is handed the objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloudshift.rules.ruleset import RuleSet


@dataclass(frozen=True)
class Prefilter:
    imports: re.Pattern[str]
    entry_names: re.Pattern[str]
    named_modules: re.Pattern[str]
    shaped_calls: tuple[tuple[re.Pattern[str], tuple[re.Pattern[str], ...]], ...]  # (methods, keywords) per shape
    method_calls: re.Pattern[str]  # a call of a method by an SDK object's compound method name

    def is_candidate(self, text: str) -> bool:
        return self.imports.search(text) is not None and self.entry_names.search(text) is not None

    def reaches_sdk(self, text: str) -> bool:
        """An import line of an SDK module, an SDK module's name as a string (`import_module("boto3")`), or a call
        spelled only as an SDK object's are (`put_object(Bucket=...)`, by a module handed a client from outside)."""
        return (
            self.imports.search(text) is not None
            or self.named_modules.search(text) is not None
            or any(
                methods.search(text) and all(keyword.search(text) for keyword in keywords)
                for methods, keywords in self.shaped_calls
            )
        )

    def calls_sdk_method(self, text: str) -> bool:
        """A call of a method by an SDK object's compound name: in a module a candidate imports, a helper
        that may be handed SDK objects (`def get_blob_metadata(container_client, path)`)."""
        return self.method_calls.search(text) is not None


def build_prefilter(ruleset: RuleSet) -> Prefilter:
    alternatives = [alternative for module in sorted(ruleset.modules) for alternative in _import_patterns(module)]
    imports = re.compile(rf"^[ \t]*(?:{'|'.join(alternatives)})", re.MULTILINE)
    names = {dotted.rsplit(".", 1)[-1] for dotted in ruleset.creations_by_call}
    names |= {dotted.rsplit(".", 1)[-1] for dotted in ruleset.types}
    names |= {dotted.rsplit(".", 1)[-1] for dotted in ruleset.rules_by_call}
    entry_names = re.compile(rf"\b(?:{'|'.join(sorted(map(re.escape, names)))})\b")
    modules = "|".join(re.escape(module) for module in sorted(ruleset.modules))
    named_modules = re.compile(rf"""["'](?:{modules})(?:\.[\w.]*)?["']""")
    shaped_calls = tuple(
        (
            re.compile(rf"\.(?:{'|'.join(sorted(map(re.escape, obj.distinctive)))})\s*\("),
            tuple(_keyword_pattern(keyword) for keyword in sorted(obj.call_shape.keywords)),
        )
        for obj in ruleset.objects.values()
        if obj.call_shape is not None and obj.distinctive
    )
    compound = {name for obj in ruleset.objects.values() for name in obj.members if "_" in name.strip("_")}
    method_calls = re.compile(rf"\.(?:{'|'.join(sorted(map(re.escape, compound)))})\s*\(")
    return Prefilter(imports, entry_names, named_modules, shaped_calls, method_calls)


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """`Bucket=` as an argument, or `"Bucket":` as a key of a dict passed as `**params`."""
    name = re.escape(keyword)
    return re.compile(rf"""\b{name}\s*=(?!=)|["']{name}["']\s*:""")


def _import_patterns(module: str) -> list[str]:
    """Import lines that bring in `module` or something in it, and nothing else.

    `google.cloud.storage` is imported by `import google.cloud.storage`, `from google.cloud.storage...
    import`, or `from google.cloud import storage`; `from google.protobuf import ...` does not.
    """
    dotted = re.escape(module)
    patterns = [rf"import[ \t]+[\w., \t]*\b{dotted}\b", rf"from[ \t]+{dotted}\b"]
    parts = module.split(".")
    for end in range(1, len(parts)):
        package, name = re.escape(".".join(parts[:end])), re.escape(parts[end])
        patterns.append(rf"from[ \t]+{package}[ \t]+import[ \t]+\(?[\w, \t\\\n]*\b{name}\b")
    return patterns
