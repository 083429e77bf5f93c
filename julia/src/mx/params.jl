# Operator parameters: libmxnet takes every parameter as a string.

# Tuple parameters with one entry per dimension. Julia shapes are libmxnet shapes reversed, so
# these are reversed too (kernel=(w, h) in Julia is libmxnet's kernel=(h, w)). Others, such as
# `axes` or `axis`, hold libmxnet axis numbers and pass through unchanged.
const PER_DIMENSION_PARAMS = (:shape, :target_shape, :kernel, :stride, :dilate, :pad, :adj,
                              :begin, :end, :step, :reps)

"The string libmxnet accepts for a parameter value."
param_string(value::AbstractString) = String(value)
param_string(value::Symbol) = String(value)
param_string(value::Bool) = value ? "true" : "false"
param_string(value::Union{Integer,AbstractFloat}) = string(value)
param_string(value::Real) = string(Float64(value))   # π, 1//2: as a number
param_string(::Nothing) = "None"
param_string(ctx::Context) = string(ctx)
param_string(::Type{T}) where {T} = dtype_name(T)
param_string(values::Union{Tuple,AbstractVector}) =
    length(values) == 1 ? "(" * param_string(first(values)) * ",)" :
    "(" * join(map(param_string, values), ",") * ")"

param_string(key::Symbol, value) = param_string(value)
param_string(key::Symbol, value::Tuple) =
    key in PER_DIMENSION_PARAMS ? param_string(Base.reverse(value)) : param_string(value)

"Parameter keys and values as the two string vectors the C calls take."
function param_strings(params)
    keys = String[string(k) for (k, _) in params]
    values = String[param_string(Symbol(k), v) for (k, v) in params]
    return keys, values
end
