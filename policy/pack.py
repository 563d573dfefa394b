"""Rules of policy/rules.py as pulumi-policy policies (imported by the pack's __main__.py).

Rules about one resource become ResourceValidationPolicy, cross-resource rules
StackValidationPolicy (they follow `property_dependencies`, e.g. from a public-access block to its
bucket). Rules are mandatory unless marked advisory (optional hardening); suppressions and their
reasons live in rules.SUPPRESSIONS.
"""

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policy.rules import RULES, Resource, Rule, suppression_reason


def _secret_outputs(policy_resource) -> tuple[str, ...]:
    opts = getattr(policy_resource, "opts", None)
    return tuple(getattr(opts, "additional_secret_outputs", None) or ())


def _resource(policy_resource) -> Resource:
    return Resource(
        type=policy_resource.resource_type,
        urn=policy_resource.urn,
        name=policy_resource.name,
        props=policy_resource.props,
        property_dependencies={k: [d.urn for d in v] for k, v in (policy_resource.property_dependencies or {}).items()},
        additional_secret_outputs=_secret_outputs(policy_resource),
    )


def _level(rule: Rule) -> EnforcementLevel:
    return EnforcementLevel.ADVISORY if rule.enforcement == "advisory" else EnforcementLevel.MANDATORY


def _description(rule: Rule) -> str:
    return f"{rule.description} [{', '.join(rule.ids)}]"


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args, report_violation):
        if args.resource_type not in rule.types:
            return
        resource = Resource(
            type=args.resource_type,
            urn=args.urn,
            name=args.name,
            props=args.props,
            additional_secret_outputs=_secret_outputs(args),
        )
        for message in rule.check(resource):
            if not suppression_reason(rule.name, resource, message):
                report_violation(message)

    return ResourceValidationPolicy(rule.name, _description(rule), validate, _level(rule))


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args, report_violation):
        resources = [_resource(r) for r in args.resources]
        by_urn = {r.urn: r for r in resources}
        for urn, message in rule.check_stack(resources):
            if urn not in by_urn or not suppression_reason(rule.name, by_urn[urn], message):
                report_violation(message, urn)

    return StackValidationPolicy(rule.name, _description(rule), validate, _level(rule))


def policies() -> list:
    return [_stack_policy(r) if r.check_stack else _resource_policy(r) for r in RULES]
