@testset "io" begin
    x = Float32.(reshape(1:30, 3, 10))        # 10 samples of 3 features
    y = Float32.(0:9)

    @testset "batches in order, a padded last batch" begin
        p = mx.ArrayDataProvider(:x => x, :y => y; batch_size = 4)
        @test mx.provide_data(p) == [:x => (3, 4)]
        @test mx.provide_label(p) == [:y => (4,)]
        @test mx.get_batch_size(p) == 4
        batches = [(copy.(mx.get_data(p, b)), copy.(mx.get_label(p, b)), mx.count_samples(p, b))
                   for b in mx.eachbatch(p)]
        @test length(batches) == 3
        @test batches[1][1][1] == x[:, 1:4] && batches[1][2][1] == y[1:4] && batches[1][3] == 4
        # The short last batch wraps around to the first samples.
        @test batches[3][1][1] == x[:, [9, 10, 1, 2]] && batches[3][3] == 2
    end

    @testset "default names, no label, whole data as one batch" begin
        p = mx.ArrayDataProvider(x)
        @test mx.provide_data(p) == [:data => (3, 10)] && isempty(mx.provide_label(p))
        @test first.(mx.provide_label(mx.ArrayDataProvider(x, y))) == [:softmax_label]
    end

    @testset "shuffle takes every sample once per pass" begin
        p = mx.ArrayDataProvider(:x => x, :y => y; batch_size = 5, shuffle = true)
        seen = vcat([copy(b.label[1]) for b in mx.eachbatch(p)]...)
        @test sort(seen) == y && seen != y
        @test all(copy(b.data[1]) == x[:, Int.(copy(b.label[1])) .+ 1] for b in mx.eachbatch(p))
    end

    @test_throws mx.MXError mx.ArrayDataProvider(x, Float32.(1:9))
    @test_throws mx.MXError mx.ArrayDataProvider(x; batch_size = 11)
end
