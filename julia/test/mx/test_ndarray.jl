@testset "ndarray" begin
    @testset "values round-trip, with Julia's size" begin
        a = reshape(Float32.(1:24), 2, 3, 4)
        arr = mx.NDArray(a)
        @test size(arr) == (2, 3, 4)
        @test size(arr, 3) == 4
        @test ndims(arr) == 3
        @test length(arr) == 24
        @test eltype(arr) == Float32
        @test copy(arr) == a
        @test Array(arr) == a
        @test copy(a, mx.cpu()) isa mx.NDArray
        @test copy(copy(arr, mx.cpu())) == a
    end

    @testset "element types" begin
        for T in (Float32, Float64, Int32, Int64, UInt8)
            a = T[1 2; 3 4; 5 6]
            arr = mx.NDArray(a)
            @test eltype(arr) == T
            @test copy(arr) == a
            @test copy(arr) isa Matrix{T}
        end
        @test eltype(mx.zeros(Float64, 2, 2)) == Float64
        @test eltype(mx.empty(Int32, (3,))) == Int32
        @test_throws mx.MXError mx.NDArray([true, false])
        # Copying out converts to the destination's element type.
        @test copy!(zeros(Float64, 2), mx.NDArray(Float32[1.5, 2.5])) == [1.5, 2.5]
    end

    @testset "creators" begin
        @test copy(mx.zeros(2, 3)) == zeros(Float32, 2, 3)
        @test copy(mx.ones((3, 2))) == ones(Float32, 3, 2)
        @test copy(mx.ones(Int32, 4)) == Int32[1, 1, 1, 1]
        @test size(mx.empty(5, 7)) == (5, 7)
        @test copy(fill!(mx.empty(2, 2), 3.5)) == fill(3.5f0, 2, 2)
        # mx's creators are its own: Julia's still make Julia arrays.
        @test zeros(2) isa Vector{Float64}
    end

    @testset "Julia size is libmxnet's shape reversed" begin
        a = Float32[1 2 3; 4 5 6]   # Julia (2, 3) = libmxnet (3, 2)
        # libmxnet's axis 0 is Julia's last dimension.
        summed = mx._invoke("sum", [mx.NDArray(a)]; axis = 0)[1]
        @test copy(summed) == vec(Base.sum(a, dims = 2))
        # Shape parameters are given in Julia's order.
        full = mx._invoke("_full", mx.NDArray[]; shape = (3, 2), value = 5)[1]
        @test size(full) == (3, 2)
        @test all(copy(full) .== 5)
    end

    @testset "copy between arrays" begin
        src = mx.NDArray(Float32[1 2; 3 4])
        dst = mx.zeros(2, 2)
        @test copy!(dst, src) === dst
        @test copy(dst) == Float32[1 2; 3 4]
        @test_throws DimensionMismatch copy!(mx.zeros(3), src)
        @test_throws DimensionMismatch copy!(dst, ones(Float32, 4))
        copy!(dst, Float64[5 6; 7 8])    # converted to the array's type
        @test copy(dst) == Float32[5 6; 7 8]
    end

    @testset "slice along the last (batch) dimension" begin
        a = reshape(Float32.(1:12), 3, 4)
        arr = mx.NDArray(a)
        @test copy(mx.slice(arr, 2:3)) == a[:, 2:3]
        @test copy(mx.slice(arr, 4)) == a[:, 4:4]
        @test_throws BoundsError mx.slice(arr, 0:2)
        @test_throws BoundsError mx.slice(arr, 4:5)
        # A slice shares memory with its parent.
        fill!(mx.slice(arr, 1:2), 0)
        @test copy(arr) == hcat(zeros(Float32, 3, 2), a[:, 3:4])
    end

    @testset "arithmetic" begin
        a = Float32[1 2; 3 4; 5 6]
        b = Float32[2 2; 4 4; 8 8]
        x, y = mx.NDArray(a), mx.NDArray(b)
        @test copy(x + y) == a + b
        @test copy(x - y) == a - b
        @test copy(x .* y) == a .* b
        @test copy(x ./ y) == a ./ b
        @test copy(x .+ y) == a .+ b
        @test copy(x + 2) == a .+ 2
        @test copy(2 - x) == 2 .- a
        @test copy(x - 0.5) == a .- 0.5f0
        @test copy(3 * x) == 3 .* a
        @test copy(x / 4) == a ./ 4
        @test copy(1 ./ y) == 1 ./ b
        @test copy(-x) == -a
        @test copy(2 .* x .+ y) == 2 .* a .+ b
        # Different sizes broadcast as Julia does.
        col = Float32[10, 20, 30]
        @test copy(x .+ mx.NDArray(reshape(col, 3, 1))) == a .+ col
        @test copy(x .* mx.NDArray(col)) == a .* col
        @test copy(mx.NDArray(Int32[1, 2]) * 3) == Int32[3, 6]
    end

    @testset "in-place arithmetic" begin
        a = Float32[1 2; 3 4]
        x = mx.NDArray(a)
        @test mx.add_to!(x, mx.NDArray(a), 1) === x
        @test copy(x) == 2a .+ 1
        mx.sub_from!(x, 1)
        @test copy(x) == 2a
        mx.mul_to!(x, mx.NDArray(a))
        @test copy(x) == 2a .* a
        mx.div_from!(x, 2)
        @test copy(x) == a .* a
        mx.div_from!(x, mx.NDArray(a))
        mx.sub_from!(x, mx.NDArray(a))
        @test copy(x) == zeros(Float32, 2, 2)
    end

    @testset "_invoke" begin
        x, y = mx.NDArray(Float32[1, 2]), mx.NDArray(Float32[3, 4])
        out = mx._invoke("elemwise_add", [x, y])
        @test length(out) == 1 && copy(out[1]) == [4, 6]
        dst = mx.zeros(2)
        @test mx._invoke("elemwise_mul", [x, y], [dst])[1] === dst
        @test copy(dst) == [3, 8]
        # A multi-output operator returns all its outputs.
        parts = mx._invoke("SliceChannel", [mx.NDArray(reshape(Float32.(1:6), 2, 3))]; num_outputs = 3, axis = 0)
        @test [copy(p) for p in parts] == [Float32[1, 2][:, :], Float32[3, 4][:, :], Float32[5, 6][:, :]]
        mx.wait_all()
        err = try mx._invoke("elemwise_add", [mx.zeros(2, 3), mx.zeros(3, 2)]); nothing catch e; e end
        @test err isa mx.MXError && occursin("expected [3,2], got [2,3]", err.msg)
    end

    @testset "save and load (.params format)" begin
        mktempdir() do dir
            a, b = reshape(Float32.(1:6), 2, 3), Float64[1.5, -2]
            file = joinpath(dir, "named.params")
            mx.save(file, Dict(:weight => mx.NDArray(a), "bias" => mx.NDArray(b)))
            loaded = mx.load(file, mx.NDArray)
            @test loaded isa Dict{Symbol,mx.NDArray}
            @test sort(collect(keys(loaded))) == [:bias, :weight]
            @test copy(loaded[:weight]) == a && size(loaded[:weight]) == (2, 3)
            @test copy(loaded[:bias]) == b && eltype(loaded[:bias]) == Float64

            listed = joinpath(dir, "listed.params")
            mx.save(listed, [mx.NDArray(a), mx.NDArray(b)])
            arrays = mx.load(listed, mx.NDArray)
            @test arrays isa Vector{mx.NDArray}
            @test copy.(arrays) == [a, b]

            err = try mx.load(joinpath(dir, "missing.params"), mx.NDArray); nothing catch e; e end
            @test err isa mx.MXError && occursin("missing.params", err.msg)
        end
    end
end

@testset "a damaged or hostile .params file is refused before libmxnet reads it" begin
    mktempdir() do dir
        good = joinpath(dir, "good.params")
        mx.save(good, Dict(:a => mx.NDArray(Float32[1 2; 3 4]), :b => mx.NDArray(Float32[5, 6, 7])))
        bytes = read(good)
        @test Set(keys(mx.load(good, mx.NDArray))) == Set([:a, :b])
        variant(name, data) = (path = joinpath(dir, name); write(path, data); path)
        refused(path, phrase) = try
            mx.load(path, mx.NDArray)
            false
        catch e
            e isa mx.MXError && occursin(phrase, e.msg)
        end
        # The first array's first dimension (after 8+8+8 header bytes, magic, storage type, ndim).
        huge = copy(bytes)
        huge[37:44] = reinterpret(UInt8, [Int64(2)^62])
        started = time()
        @test refused(variant("huge.params", huge), "dimension of")
        @test time() - started < 1   # nothing allocated: no 2^62-element array tried
        @test refused(variant("short.params", bytes[1:end-10]), "")
        @test refused(variant("longer.params", vcat(bytes, UInt8[0])), "bytes after its last array")
        @test refused(variant("empty.params", UInt8[]), "ends inside its header")
        @test refused(variant("text.params", Vector{UInt8}("not a params file at all, just some text")), "not an NDArray file")
        many = copy(bytes)
        many[17:24] = reinterpret(UInt8, [UInt64(2)^40])
        @test refused(variant("many.params", many), "arrays, more than it can hold")
    end
end
