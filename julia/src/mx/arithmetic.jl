# Julia's arithmetic on NDArrays (computed now) and SymbolicNodes (added to the graph), through
# libmxnet's element-wise operators: `a + b`, `a .* b`, `a ./ 2`, `1 .- a`, `-a` ...

const ArrayOrNode = Union{NDArray,SymbolicNode}

# One operator applied to NDArrays now, or to symbols as a new node.
apply_op(op::AbstractString, inputs::NDArray...; params...) =
    _invoke(op, collect(inputs); params...)[1]
apply_op(op::AbstractString, inputs::SymbolicNode...; params...) = create_symbol(op, inputs, params)

# The scalar operators convert the scalar to the array's type; `is_int` says what it was.
apply_scalar_op(op, a::ArrayOrNode, s::Real) = apply_op(op, a; scalar = s, is_int = s isa Integer)

# NDArrays of different sizes broadcast as in Julia: Julia pads trailing dimensions with 1,
# libmxnet (numpy rules) pads leading ones, and Julia's trailing are libmxnet's leading.
elementwise(a::NDArray, b::NDArray, same_size_op, broadcast_op) =
    apply_op(size(a) == size(b) ? same_size_op : broadcast_op, a, b)
# A symbol's size is not known yet: its operands must have the same size.
elementwise(a::SymbolicNode, b::SymbolicNode, same_size_op, broadcast_op) =
    apply_op(same_size_op, a, b)

for (f, same_size_op, broadcast_op, scalar_right, scalar_left) in (
        (:+, "elemwise_add", "broadcast_add", "_plus_scalar", "_plus_scalar"),
        (:-, "elemwise_sub", "broadcast_sub", "_minus_scalar", "_rminus_scalar"),
        (:*, "elemwise_mul", "broadcast_mul", "_mul_scalar", "_mul_scalar"),
        (:/, "elemwise_div", "broadcast_div", "_div_scalar", "_rdiv_scalar"))
    @eval begin
        Base.broadcasted(::typeof($f), a::T, b::T) where {T<:ArrayOrNode} =
            elementwise(a, b, $same_size_op, $broadcast_op)
        Base.broadcasted(::typeof($f), a::ArrayOrNode, s::Real) =
            apply_scalar_op($scalar_right, a, s)
        Base.broadcasted(::typeof($f), s::Real, a::ArrayOrNode) =
            apply_scalar_op($scalar_left, a, s)
    end
end

# The undotted forms Julia defines for arrays (sizes must match), plus + and - with scalars.
Base.:+(a::T, b::T) where {T<:ArrayOrNode} = apply_op("elemwise_add", a, b)
Base.:-(a::T, b::T) where {T<:ArrayOrNode} = apply_op("elemwise_sub", a, b)
Base.:-(a::ArrayOrNode) = apply_scalar_op("_mul_scalar", a, -1)
Base.broadcasted(::typeof(-), a::ArrayOrNode) = -a
for f in (:+, :-, :*, :/)
    @eval Base.$f(a::ArrayOrNode, s::Real) = Base.broadcasted($f, a, s)
end
for f in (:+, :-, :*)
    @eval Base.$f(s::Real, a::ArrayOrNode) = Base.broadcasted($f, s, a)
end

# ----- in place, for NDArrays --------------------------------------------------------------------

function update!(dst::NDArray, arg::NDArray, array_op, scalar_op)
    _invoke(array_op, [dst, arg], [dst])
    return dst
end
function update!(dst::NDArray, s::Real, array_op, scalar_op)
    _invoke(scalar_op, [dst], [dst]; scalar = s, is_int = s isa Integer)
    return dst
end

"`add_to!(dst, args...)`: dst += each arg (NDArrays of dst's size, or scalars), in place."
add_to!(dst::NDArray, args::Union{NDArray,Real}...) =
    (foreach(arg -> update!(dst, arg, "elemwise_add", "_plus_scalar"), args); dst)
"`sub_from!(dst, arg)`: dst -= arg, in place."
sub_from!(dst::NDArray, arg::Union{NDArray,Real}) =
    update!(dst, arg, "elemwise_sub", "_minus_scalar")
"`mul_to!(dst, arg)`: dst .*= arg, in place."
mul_to!(dst::NDArray, arg::Union{NDArray,Real}) = update!(dst, arg, "elemwise_mul", "_mul_scalar")
"`div_from!(dst, arg)`: dst ./= arg, in place."
div_from!(dst::NDArray, arg::Union{NDArray,Real}) = update!(dst, arg, "elemwise_div", "_div_scalar")
