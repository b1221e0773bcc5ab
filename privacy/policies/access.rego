# c360 access policy: one decision per resource, with a mask mode per SensitiveKind.
#
# The logic lives here; who may see what lives in data.json (data.c360.tables), so a privacy
# officer can change a role's purposes or mask modes without touching this file.
#
# Every function takes the request (`q`, the shape of `input`) as an argument, so tests call
# decide(q) directly instead of `with input as` (which crashes regopy 1.5 when a rule body
# calls a builtin). Other portability notes for regopy: comprehensions on one line with ';',
# comprehension heads are plain variables bound in the body, messages built with concat
# (its sprintf quotes computed strings), no `some k, v in` inside comprehensions, a function's
# result bound to a variable before a comprehension iterates it (purposes_for).
package c360.access

tables := data.c360.tables

# Decisions keyed by resource id. Callers give each resource a unique id. Decisions never
# depend on the id (only on subject, purpose, action, type and attributes): the engines
# evaluate each distinct attribute set once, so keep it that way (reasons name no id).
decisions := decide(input)

# What the subject's roles allow is worked out once per resource type; each resource then
# only checks scopes. Functions get the request without its resource list (ctx): regopy
# copies arguments per call, and passing the whole batch made a batch cost quadratic.
decide(q) := decide_with(object.remove(q, {"resources"}), q.resources)

decide_with(ctx, resources) := {id: d | plans := type_plans(ctx, resources); some r in resources; id := r.id; d := decision(ctx, plans[r.type], r)}

type_plans(ctx, resources) := {t: p | some r in resources; t := r.type; p := plan(ctx, t)}

# The grants the subject's roles give on a resource type for this purpose and action.
plan(ctx, rtype) := [g | some role in ctx.subject.roles; g := role_grant(ctx, role, rtype)]

role_grant(ctx, role, rtype) := g if {
	rule := rule_for(ctx, rtype, role)
	ctx.action in rule.actions
	masks := object.get(tables.mask_profiles, rule.masks, {})
	why := concat("", [role, " may ", ctx.action, " ", rtype, " for ", purpose_label(ctx), " (", rule.scope, ")"])
	g := {"scope": rule.scope, "masks": masks, "reason": why}
}

decision(ctx, grants, r) := d if {
	gs := [g | some g in grants; in_scope(ctx, g.scope, r)]
	count(gs) > 0
	reasons := {why | some g in gs; why := g.reason}
	d := {"allow": true, "masks": merged_masks(gs), "reason": concat("; ", sort(reasons))}
} else := d if {
	d := {"allow": false, "masks": {}, "reason": denial(ctx, r)}
}

purpose_label(q) := q.purpose if is_string(q.purpose)

purpose_label(q) := "any purpose" if not is_string(q.purpose)

# A rule for the stated purpose, else a purpose-free rule ("*").
rule_for(q, rtype, role) := rule if {
	is_string(q.purpose)
	rule := tables.resources[rtype][role][q.purpose]
} else := rule if {
	rule := tables.resources[rtype][role]["*"]
}

in_scope(_, "any", _)

# A missing advisor or branch matches nobody (a principal without a branch claim included).
in_scope(q, "managed", r) if {
	is_string(r.attributes.advisorId)
	r.attributes.advisorId == q.subject.sub
}

in_scope(q, "branch", r) if {
	is_string(r.attributes.branchId)
	r.attributes.branchId == q.subject.branch
}

in_scope(_, "consent_marketing", r) if r.attributes.consentMarketing == true

# The most revealing mode any grant gives a kind; an unknown mode counts for nothing, and a
# kind nobody lists stays out of masks (the caller redacts it). One grant: its own masks.
merged_masks(gs) := gs[0].masks if count(gs) == 1

merged_masks(gs) := {kind: mode | some kind in tables.kinds; ranks := [rank | some g in gs; m := g.masks[kind]; rank := tables.mode_rank[m]]; count(ranks) > 0; some mode; tables.mode_rank[mode] == max(ranks)} if count(gs) > 1

# Roles of the subject that have any rule at all for the resource type.
roles_for(q, rtype) := {role | some role in q.subject.roles; typed := object.get(tables.resources, rtype, {}); role in object.keys(typed)}

roles_with_purpose(q, rtype) := {role | some role in roles_for(q, rtype); rule_for(q, rtype, role)}

roles_with_action(q, rtype) := {role | some role in roles_with_purpose(q, rtype); rule := rule_for(q, rtype, role); q.action in rule.actions}

# Why r is denied: the first reason that applies, most basic first.
denial(q, r) := msg if {
	count(roles_for(q, r.type)) == 0
	msg := concat("", ["no role of ", subject_label(q), " may access ", r.type])
} else := msg if {
	not is_string(q.purpose)
	count(roles_with_purpose(q, r.type)) == 0
	allowed := concat(", ", purposes_for(q, r.type))
	msg := concat("", ["a purpose of use is required to access ", r.type, " (one of: ", allowed, ")"])
} else := msg if {
	count(roles_with_purpose(q, r.type)) == 0
	roles := concat(", ", sort(roles_for(q, r.type)))
	allowed := concat(", ", purposes_for(q, r.type))
	msg := concat("", ["purpose ", q.purpose, " does not permit access to ", r.type, " for ", roles, " (allowed: ", allowed, ")"])
} else := msg if {
	count(roles_with_action(q, r.type)) == 0
	msg := concat("", ["action ", q.action, " on ", r.type, " is not permitted for ", purpose_label(q)])
} else := msg if {
	has_scope(q, r.type, "managed")
	msg := concat("", [r.type, " is not managed by advisor ", subject_label(q)])
} else := msg if {
	has_scope(q, r.type, "consent_marketing")
	msg := concat("", [r.type, " has not consented to marketing"])
} else := msg if {
	has_scope(q, r.type, "branch")
	msg := concat("", [r.type, " is not in the subject's branch"])
} else := msg if {
	msg := concat("", ["no rule permits this access to ", r.type])
}

has_scope(q, rtype, scope) if {
	some role in roles_with_action(q, rtype)
	rule := rule_for(q, rtype, role)
	rule.scope == scope
}

subject_label(q) := q.subject.sub if is_string(q.subject.sub)

subject_label(q) := "anonymous" if not is_string(q.subject.sub)

# The purposes that grant rtype to the roles a denial names (roles_for), none of another
# role. The roles are bound first: iterating the call inside the comprehension, regopy also
# yielded purposes of other roles ("allowed: marketing, service" for an advisor and marketing
# analyst, where only service grants a CareTask; QA, session 24).
purposes_for(q, rtype) := sort(ps) if {
	roles := roles_for(q, rtype)
	ps := {p | some role in roles; some p; tables.resources[rtype][role][p]}
}
