@testset "NLL metric" begin
    n_class, batch = 7, 5
    uniform = mx.NDArray(fill(1f0 / n_class, n_class, batch))
    labels = mx.NDArray(Float32[0, 3, 6, 2, 1])
    metric = CharLSTM.NLL()
    mx.update!(metric, [labels, labels], [uniform, uniform])
    (name1, nll), (name2, perplexity) = get(metric)
    @test name1 == :NLL && name2 == :perplexity
    @test nll ≈ log(n_class) rtol = 1e-6   # Float32 probabilities
    @test perplexity ≈ n_class rtol = 1e-6

    # The mean is per character, over steps and batches; a zero probability costs -log(1e-20).
    sure = zeros(Float32, n_class, batch)
    sure[1, :] .= 1
    mx.update!(metric, [mx.NDArray(zeros(Float32, batch))], [mx.NDArray(sure)])
    @test get(metric)[1][2] ≈ 2 * batch * log(n_class) / (3 * batch) rtol = 1e-6
    mx.reset!(metric)
    mx.update!(metric, [mx.NDArray(ones(Float32, batch))], [mx.NDArray(sure)])
    @test get(metric)[1][2] ≈ -log(1e-20)
end
