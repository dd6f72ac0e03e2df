"""Apply the rules to a resolved module: every SDK call (or SDK method passed as a value) is a Match."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from cloudshift.engine.resolve import Resolver, Scope, SdkValue, bind_arguments, when_holds
from cloudshift.rules.ruleset import Rule, RuleSet


@dataclass(frozen=True)
class Match:
    """A rule matched at `node`: a call, or an attribute naming an SDK method without calling it."""

    rule: Rule
    node: cst.Call | cst.Attribute
    scope: Scope
    receiver: SdkValue | None  # the SDK object the method belongs to (None for module functions)
    arguments: dict[str, cst.Arg] | None  # bound by the rule's signature; None if they cannot be
    manual: str = ""  # why the call cannot be fixed where it is (an SDK method called by name, or unbound)

    @property
    def is_call(self) -> bool:
        return isinstance(self.node, cst.Call)


def detect(resolver: Resolver, ruleset: RuleSet) -> list[Match]:
    """Every match in the module, in source order of the call sites."""
    matches = [match for site in resolver.calls if (match := _match_call(site.node, site.scope, resolver, ruleset))]
    for use in resolver.attribute_reads():
        owner = resolver.sdk_value(use.node.value, use.scope)
        if owner is None:
            continue
        member = use.node.attr.value
        if not _identifies(owner, member, ruleset):
            continue
        rules = ruleset.rules_by_member.get((owner.object, member), ())
        if (
            not rules
            and id(use.node) in resolver.collector.argument_values
            and (owner.object, member) not in ruleset.creations_by_member
        ):  # handed to a wrapper: a method?
            rules = [rule for rule in [ruleset.method_passed_along(owner.object, member)] if rule]
        if rules:
            matches.append(Match(rules[0], use.node, use.scope, owner, None))
    return _one_per_chain(matches, resolver, ruleset)


def _one_per_chain(matches: list[Match], resolver: Resolver, ruleset: RuleSet) -> list[Match]:
    """Drop a matched call whose result is at once the receiver of another match.

    `blob.download_blob().readall()` is one use: the outer finding's fix rewrites the inner call
    through its creation template, so the inner one is folded into it. Only results with a shim
    equivalent are folded; a chain through an object without one keeps both findings.
    """
    receivers = {id(node) for match in matches if (node := _receiver(match)) is not None}
    return [match for match in matches if id(match.node) not in receivers or not _has_shim(match, resolver, ruleset)]


def _receiver(match: Match) -> cst.CSTNode | None:
    node = match.node.func if isinstance(match.node, cst.Call) else match.node
    return node.value if isinstance(node, cst.Attribute) else None


def _has_shim(match: Match, resolver: Resolver, ruleset: RuleSet) -> bool:
    value = resolver.sdk_value(match.node, match.scope)
    return value is not None and ruleset.objects[value.object].shim != "none"


def _match_call(node: cst.Call, scope: Scope, resolver: Resolver, ruleset: RuleSet) -> Match | None:
    indirect = resolver.facts.indirect(node) if resolver.facts is not None else None
    if indirect is not None:
        return Match(ruleset.rule(indirect.rule), node, scope, indirect.receiver, None, indirect.reason)
    func = node.func
    if isinstance(func, cst.Attribute):
        owner = resolver.sdk_value(func.value, scope)
        if owner is not None:
            return _match_method(node, scope, owner, func.attr.value, resolver, ruleset)
    dotted = resolver.dotted_name(func, scope)
    for rule in ruleset.rules_by_call.get(dotted or "", ()):
        bound = bind_arguments(rule.signature, node.args)
        if when_holds(rule.when, bound):
            return Match(rule, node, scope, None, bound)
    return None


def _identifies(owner: SdkValue, method: str, ruleset: RuleSet) -> bool:
    """Whether calling `method` is known to be an SDK use: always, unless the object's service is uncertain."""
    return owner.certain or method in ruleset.objects[owner.object].distinctive


def _match_method(
    node: cst.Call, scope: Scope, owner: SdkValue, method: str, resolver: Resolver, ruleset: RuleSet
) -> Match | None:
    if not _identifies(owner, method, ruleset):
        return None
    for rule in ruleset.rules_by_member.get((owner.object, method), ()):
        bound = bind_arguments(rule.signature, node.args)
        if when_holds(rule.when, bound):
            return Match(rule, node, scope, owner, bound)
    if (owner.object, method) in ruleset.creations_by_member:
        return None  # a factory (client.bucket(...)): its uses are the findings
    catch_all = ruleset.catch_all(owner.object, method)
    if catch_all is not None:
        return Match(catch_all, node, scope, owner, bind_arguments(catch_all.signature, node.args))
    return None
