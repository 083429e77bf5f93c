# Random numbers drawn by libmxnet, so that runs repeat exactly for the same seed.

"Seeds libmxnet's random number generators on every device (MXRandomSeed)."
srand(seed::Integer) = @mxcall(:MXRandomSeed, (Cint,), seed)

# The random operators take the output's size, type and device as parameters.
function fill_random!(arr::NDArray, op::AbstractString; params...)
    _invoke(op, NDArray[], [arr]; shape = size(arr), dtype = eltype(arr), ctx = context(arr),
            params...)
    return arr
end

"`rand!(arr, low=0, high=1)`: fills `arr` with uniform samples from [low, high)."
rand!(arr::NDArray, low::Real = 0, high::Real = 1) =
    fill_random!(arr, "_random_uniform"; low = low, high = high)

"`randn!(arr, mean=0, std=1)`: fills `arr` with normal samples."
randn!(arr::NDArray, mean::Real = 0, std::Real = 1) =
    fill_random!(arr, "_random_normal"; loc = mean, scale = std)
