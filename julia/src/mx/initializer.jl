# Initializers: the first values of a model's parameters, chosen by the parameter's name.
#
# Random values come from libmxnet's generator (mx.rand!, mx.randn!), so `srand(seed)` makes
# an initialization repeat exactly.

"""
How to fill weights. `init(initializer, name, arr)` picks by name: biases, `beta` and
`moving_mean` get 0, `gamma` and `moving_var` get 1, weights get the initializer's values.
"""
abstract type AbstractInitializer end

"""
    init(initializer, name::Symbol, arr::NDArray)

Fills `arr`, the parameter called `name`, in place: names ending in `bias`, `beta` or
`moving_mean` get 0, in `gamma` or `moving_var` 1, in `weight` the initializer's values.
"""
function init(initializer::AbstractInitializer, name::Symbol, arr::NDArray)
    s = string(name)
    if endswith(s, "bias") || endswith(s, "beta") || endswith(s, "moving_mean")
        fill!(arr, 0)
    elseif endswith(s, "gamma") || endswith(s, "moving_var")
        fill!(arr, 1)
    elseif endswith(s, "weight")
        init_weight!(initializer, arr)
    else
        # Guessing would silently train a parameter from a wrong start.
        throw(MXError("cannot tell how to initialize parameter $name: names must end in " *
                      "weight, bias, gamma, beta, moving_mean or moving_var (or give its " *
                      "values, or feed it as data)"))
    end
    return arr
end

"""`UniformInitializer(scale=0.07)`: weights drawn uniformly from [-scale, scale)."""
struct UniformInitializer <: AbstractInitializer
    scale::Float64
end
UniformInitializer() = UniformInitializer(0.07)

init_weight!(u::UniformInitializer, arr::NDArray) = rand!(arr, -u.scale, u.scale)

"""`NormalInitializer(mu=0, sigma=0.01)`: weights drawn from a normal distribution."""
struct NormalInitializer <: AbstractInitializer
    mu::Float64
    sigma::Float64
end
NormalInitializer(; mu::Real = 0, sigma::Real = 0.01) = NormalInitializer(mu, sigma)

init_weight!(n::NormalInitializer, arr::NDArray) = randn!(arr, n.mu, n.sigma)

"""
    XavierInitializer(; distribution=:uniform, regularization=:avg, magnitude=3)

Glorot & Bengio's scaling: `scale = sqrt(magnitude / n)` where `n` is the fan-in (`:in`),
fan-out (`:out`) or their mean (`:avg`); weights are U(-scale, scale) (`:uniform`) or
N(0, scale) (`:normal`). For a Julia size (in, out) the fan-in is `in` and the fan-out `out`;
leading dimensions (convolution kernels) multiply both.
"""
struct XavierInitializer <: AbstractInitializer
    distribution::Symbol
    regularization::Symbol
    magnitude::Float64
    function XavierInitializer(; distribution::Symbol = :uniform, regularization::Symbol = :avg,
                               magnitude::Real = 3)
        distribution in (:uniform, :normal) ||
            throw(MXError("XavierInitializer: distribution must be :uniform or :normal, not :$distribution"))
        regularization in (:avg, :in, :out) ||
            throw(MXError("XavierInitializer: regularization must be :avg, :in or :out, not :$regularization"))
        return new(distribution, regularization, magnitude)
    end
end

function init_weight!(x::XavierInitializer, arr::NDArray)
    dims = size(arr)
    length(dims) >= 2 ||
        throw(MXError("XavierInitializer needs a weight with at least 2 dimensions, got size $dims"))
    # Julia's last two dimensions are libmxnet's (out, in); the rest is the kernel's area.
    receptive = Base.prod(dims[1:end-2])
    fan_in, fan_out = dims[end-1] * receptive, dims[end] * receptive
    n = x.regularization == :avg ? (fan_in + fan_out) / 2 :
        x.regularization == :in ? fan_in : fan_out
    scale = Base.sqrt(x.magnitude / n)
    return x.distribution == :uniform ? rand!(arr, -scale, scale) : randn!(arr, 0, scale)
end
