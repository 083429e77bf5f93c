# Settings arrive from Python as sections, {key => value} as JSON gives them; each becomes its
# struct of settings.jl by keyword, converted to the field's type, then checked. Every default
# lives in Python (pyjlchar/settings.py): a key missing here is an error, not a second default.

"""
    SettingError(section, key, rule, value) -> UserError

A setting outside its rule, as one sentence: `key` in `[section]` must be `rule`.
"""
SettingError(section::AbstractString, key::AbstractString, rule::AbstractString, value) =
    UserError("'$key' in [$section] must be $rule, not $(repr(value))")

# A JSON value as a field of type T (JSON gives Int64, Float64, String, Bool and Vector{Any}).
field_value(::Type{Symbol}, v::AbstractString) = Symbol(v)
field_value(::Type{Float64}, v::Real) = Float64(v)
field_value(::Type{Int}, v::Integer) = Int(v)
field_value(::Type{Union{String,Vector{String}}}, v::AbstractVector) = String[p for p in v]
field_value(::Type{T}, v) where {T} = convert(T, v)

"""
    from_section(T, section; extra...) -> T

The settings struct `T` (DataSettings, ModelSpec, ...) from a section's Dict and the `extra`
fields its command supplies (ModelSpec's `n_class`), checked. A missing or unknown key is an
ArgumentError: Python always sends the whole section.
"""
function from_section(::Type{T}, section::AbstractDict; extra...) where {T}
    given = Dict{Symbol,Any}(Symbol(k) => v for (k, v) in section)
    merge!(given, Dict{Symbol,Any}(extra))
    names = fieldnames(T)
    missing_keys = setdiff(names, keys(given))
    unknown = setdiff(keys(given), names)
    problems = [string(what, " ", join(ks, ", ")) for (what, ks) in (("missing", missing_keys), ("unknown", unknown))
                if !isempty(ks)]
    isempty(problems) || throw(ArgumentError("$T takes the keys $(join(names, ", ")): $(join(problems, "; "))"))
    values = Dict{Symbol,Any}(name => field_value(fieldtype(T, name), given[name]) for name in names)
    return check(T(; values...))
end

"The same settings with some fields changed, checked: `with_fields(spec; graph = :fused)`."
with_fields(s::T; changes...) where {T} =
    check(T(; (f => get(changes, f, getfield(s, f)) for f in fieldnames(T))...))

"The settings as a section again (what a meta file records): field name => value, symbols as strings."
section_dict(s) = Dict{String,Any}(string(f) => (v = getfield(s, f); v isa Symbol ? String(v) : v)
                                   for f in fieldnames(typeof(s)))
