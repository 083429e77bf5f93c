@testset "random" begin
    draw(seed, dims) = (mx.srand(seed); copy(mx.rand!(mx.empty(dims...), -0.1, 0.1)))
    first_draw = draw(42, (30, 20))
    @test size(first_draw) == (30, 20)
    @test draw(42, (30, 20)) == first_draw               # same seed, same numbers
    @test draw(43, (30, 20)) != first_draw
    @test all(-0.1 .<= first_draw .< 0.1)
    @test length(unique(first_draw)) > 500

    mx.srand(7)
    normal = copy(mx.randn!(mx.empty(Float64, 100, 100), 3, 0.5))
    @test eltype(normal) == Float64
    mean = Base.sum(normal) / length(normal)
    @test abs(mean - 3) < 0.05
    @test abs(sqrt(Base.sum((normal .- mean) .^ 2) / length(normal)) - 0.5) < 0.05
end
