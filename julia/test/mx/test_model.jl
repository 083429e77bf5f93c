@testset "model" begin
    data, label = mx.Variable(:data), mx.Variable(:label)
    regression = mx.LinearRegressionOutput(mx.FullyConnected(data; num_hidden = 1, name = :fc), label;
                                           name = :out)
    hidden = mx.Activation(mx.FullyConnected(data; num_hidden = 16, name = :fc1); act_type = :tanh)
    classifier = mx.SoftmaxOutput(mx.FullyConnected(hidden; num_hidden = 3, name = :fc2), label;
                                  name = :softmax)

    # Three classes as blobs around corners of a square; fixed by Julia's seed.
    function blobs(n)
        rng = Random.MersenneTwister(1)
        centers = Float32[2 -2 2; 2 2 -2]
        classes = [mod(i, 3) for i in 1:n]
        return centers[:, classes .+ 1] .+ randn(rng, Float32, 2, n), Float32.(classes)
    end
    x, y = blobs(240)
    blob_data(; kw...) = mx.ArrayDataProvider(:data => x, :label => y; batch_size = 24, kw...)
    weights(model) = Dict(k => copy(v) for (k, v) in model.arg_params)
    quiet(f) = Base.CoreLogging.with_logger(f, Base.CoreLogging.NullLogger())

    function train(; context = mx.cpu(), n_epoch = 2, optimizer = mx.ADAM(lr = 0.05), kw...)
        mx.srand(1)
        model = mx.FeedForward(classifier; context = context)
        quiet(() -> mx.fit(model, optimizer, blob_data(); n_epoch = n_epoch,
                           initializer = mx.UniformInitializer(0.1), kw...))
        return model
    end

    @testset "learns a linear map" begin
        rng = Random.MersenneTwister(2)
        X = randn(rng, Float32, 4, 200)
        W = Float32[1 -2 0.5 3]
        p = mx.ArrayDataProvider(:data => X, :label => vec(W * X); batch_size = 20)
        mx.srand(1)
        model = mx.FeedForward(regression)
        metrics = Float64[]
        record = mx.every_n_epoch((model, state, metric) -> push!(metrics, metric[1][2]), 1)
        quiet(() -> mx.fit(model, mx.SGD(lr = 0.1, momentum = 0.5), p; n_epoch = 5,
                           eval_metric = mx.MSE(), callbacks = [record]))
        @test metrics[end] < 1e-4 * metrics[1]
        @test copy(model.arg_params[:fc_weight]) ≈ W' atol = 1e-3
        @test sort(collect(keys(model.arg_params))) == [:fc_bias, :fc_weight]   # data and label are not parameters
        prediction = mx.predict(model, mx.ArrayDataProvider(:data => X[:, 1:30]; batch_size = 7))
        @test size(prediction) == (1, 30)
        @test vec(prediction) ≈ vec(copy(model.arg_params[:fc_weight])' * X[:, 1:30]) .+
                                copy(model.arg_params[:fc_bias]) atol = 1e-4
    end

    @testset "logs the original's summary, accuracy goes up" begin
        mx.srand(1)
        model = mx.FeedForward(classifier)
        accuracies = Float64[]
        record = mx.every_n_epoch((model, state, metric) -> push!(accuracies, metric[1][2]), 1)
        @test_logs((:info, "== Epoch 001/003 =========="), (:info, "## Training summary"),
                   (:info, r"^accuracy = 0\.\d{4}$"), (:info, r"^time = \d+\.\d{4} seconds$"),
                   (:info, "## Validation summary"), (:info, r"^accuracy = "),
                   (:info, "== Epoch 002/003 =========="), match_mode = :any,
                   mx.fit(model, mx.ADAM(lr = 0.05), blob_data(); n_epoch = 3, eval_data = blob_data(),
                          initializer = mx.UniformInitializer(0.1), callbacks = [record]))
        @test accuracies[end] > 0.9 && accuracies[end] > accuracies[1]
    end

    @testset "two devices train as one" begin
        one = weights(train())
        two = weights(train(context = [mx.cpu(0), mx.cpu(1)]))
        @test all(isapprox(two[k], one[k]; rtol = 1e-4, atol = 1e-5) for k in keys(one))
    end

    @testset "resuming from a checkpoint and optimizer states continues exactly" begin
        uninterrupted = weights(train(n_epoch = 2))
        dir = mktempdir()
        prefix = joinpath(dir, "clf")
        opt = mx.ADAM(lr = 0.05)
        first_half = train(n_epoch = 1, optimizer = opt, callbacks = [mx.do_checkpoint(prefix)])
        mx.save_states("$prefix-0001.states", opt, first_half.opt_states)
        _, arg_params, aux_params = mx.load_checkpoint(prefix, 1)
        resumed = mx.FeedForward(classifier)
        resumed.arg_params, resumed.aux_params = arg_params, aux_params
        quiet(() -> mx.fit(resumed, opt, blob_data(); n_epoch = 2, begin_epoch = 2,
                           states = mx.load_states("$prefix-0001.states", opt)))
        @test weights(resumed) == uninterrupted
    end

    @testset "a throwing callback leaves the model as after its batch" begin
        x3, y3 = x[:, 1:72], y[1:72]     # exactly the first 3 batches
        mx.srand(1)
        three_batches = mx.FeedForward(classifier)
        quiet(() -> mx.fit(three_batches, mx.ADAM(lr = 0.05), mx.ArrayDataProvider(:data => x3, :label => y3; batch_size = 24);
                           n_epoch = 1, initializer = mx.UniformInitializer(0.1)))
        stop = mx.every_n_batch(state -> state.curr_batch == 3 && throw(InterruptException()), 1)
        mx.srand(1)
        interrupted = mx.FeedForward(classifier)
        @test_throws InterruptException quiet(() -> mx.fit(interrupted, mx.ADAM(lr = 0.05), blob_data();
                                                           n_epoch = 2, initializer = mx.UniformInitializer(0.1),
                                                           callbacks = [stop]))
        @test weights(interrupted) == weights(three_batches)
        @test interrupted.opt_states[:fc1_weight].t == 3
    end

    @testset "memory stays flat over 1,000 steps" begin
        rss() = parse(Int, split(read("/proc/self/statm", String))[2]) * 4096
        steps(n) = train(n_epoch = n ÷ 10)     # 10 batches per epoch
        steps(200)                              # warm-up: compiled code, libmxnet's pools
        GC.gc()
        before = rss()
        steps(1000)
        GC.gc()
        @test rss() - before < 50 * 2^20
    end
end
