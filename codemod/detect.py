"""Apply the rules to a resolved module: every SDK call (or SDK method passed as a value) is a Match."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from codemod.resolve import Resolver, Scope, SdkValue, bind_arguments, when_holds
from codemod.rules import Rule, RuleSet


@dataclass(frozen=True)
class Match:
    """A rule matched at `node`: a call, or an attribute naming an SDK method without calling it."""

    rule: Rule
    node: cst.Call | cst.Attribute
    scope: Scope
    receiver: SdkValue | None  # the SDK object the method belongs to (None for module functions)
    arguments: dict[str, cst.Arg] | None  # bound by the rule's signature; None if they cannot be

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
        rules = ruleset.rules_by_member.get((owner.object, use.node.attr.value), ())
        if rules:
            matches.append(Match(rules[0], use.node, use.scope, owner, None))
    return matches


def _match_call(node: cst.Call, scope: Scope, resolver: Resolver, ruleset: RuleSet) -> Match | None:
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


def _match_method(node: cst.Call, scope: Scope, owner: SdkValue, method: str, resolver: Resolver,
                  ruleset: RuleSet) -> Match | None:
    for rule in ruleset.rules_by_member.get((owner.object, method), ()):
        bound = bind_arguments(rule.signature, node.args)
        if when_holds(rule.when, bound):
            return Match(rule, node, scope, owner, bound)
    if (owner.object, method) in ruleset.creations_by_member:
        return None  # a factory (client.bucket(...)): its uses are the findings
    catch_all = ruleset.rules_by_member.get((owner.object, "*"))
    if catch_all:
        return Match(catch_all[0], node, scope, owner, bind_arguments(catch_all[0].signature, node.args))
    return None
