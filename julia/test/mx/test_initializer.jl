@testset "initializer" begin
    mean_of(x) = Base.sum(Float64.(x)) / length(x)
    std_of(x) = sqrt(Base.sum((Float64.(x) .- mean_of(x)) .^ 2) / length(x))
    initialized(initializer, name, dims...) = copy(mx.init(initializer, name, mx.empty(dims...)))

    @testset "names pick the values" begin
        uniform = mx.UniformInitializer(0.1)
        @test all(initialized(uniform, :fc1_bias, 10) .== 0)
        @test all(initialized(uniform, :bn_beta, 10) .== 0)
        @test all(initialized(uniform, :bn_moving_mean, 10) .== 0)
        @test all(initialized(uniform, :bn_gamma, 10) .== 1)
        @test all(initialized(uniform, :bn_moving_var, 10) .== 1)
        @test_throws mx.MXError initialized(uniform, :mystery, 10)
    end

    @testset "uniform" begin
        mx.srand(11)
        w = initialized(mx.UniformInitializer(0.1), :fc1_weight, 200, 100)
        @test all(-0.1 .<= w .< 0.1)
        @test abs(mean_of(w)) < 0.005
        @test abs(std_of(w) - 0.1 / sqrt(3)) < 0.002     # U(-a, a) has std a/√3
        mx.srand(11)
        @test initialized(mx.UniformInitializer(0.1), :fc1_weight, 200, 100) == w   # same seed
        @test initialized(mx.UniformInitializer(0.1), :fc1_weight, 200, 100) != w
    end

    @testset "normal" begin
        mx.srand(5)
        w = initialized(mx.NormalInitializer(mu = 1, sigma = 0.5), :w_weight, 200, 100)
        @test abs(mean_of(w) - 1) < 0.01
        @test abs(std_of(w) - 0.5) < 0.01
    end

    @testset "xavier" begin
        mx.srand(5)
        # Julia size (in=300, out=100): avg fan 200, scale sqrt(3/200).
        w = initialized(mx.XavierInitializer(), :w_weight, 300, 100)
        scale = sqrt(3 / 200)
        @test all(-scale .<= w .< scale) && maximum(w) > 0.95scale
        w = initialized(mx.XavierInitializer(distribution = :normal, regularization = :in, magnitude = 2),
                        :w_weight, 300, 100)
        @test abs(std_of(w) - sqrt(2 / 300)) < 0.002
        @test_throws mx.MXError mx.XavierInitializer(distribution = :cauchy)
        @test_throws mx.MXError initialized(mx.XavierInitializer(), :w_weight, 10)
    end
end
