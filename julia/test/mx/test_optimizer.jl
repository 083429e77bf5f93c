@testset "optimizer" begin
    w0 = Float32[0.5, -1.0, 2.0, 0.0, -0.3]
    grads = [Float32[0.4, -2.0, 1.0, 0.05, 3.0],
             Float32[-1.0, 0.5, 4.0, -0.2, 0.0],
             Float32[0.3, 0.3, -3.0, 1.5, -0.7]]
    clipped(g, bound) = clamp.(g, -bound, bound)

    # Runs `opt` for the three gradients; returns the weights after each step and the state.
    function run_steps(opt)
        weight = mx.NDArray(w0)
        state = mx.create_state(opt, 1, weight)
        steps = map(grads) do g
            mx.update!(opt, 1, weight, mx.NDArray(g), state)
            copy(weight)
        end
        return steps, state
    end

    @testset "adam matches a Julia Adam step" begin
        lr, beta1, beta2, eps, wd, clip, rescale = 0.01, 0.9, 0.999, 1e-8, 0.1, 0.3, 0.5
        opt = mx.ADAM(lr = lr, beta1 = beta1, beta2 = beta2, epsilon = eps, weight_decay = wd,
                      grad_clip = clip, rescale_grad = rescale)
        steps, state = run_steps(opt)
        w, m, v = Float64.(w0), zeros(5), zeros(5)
        for t in 1:3
            # libmxnet adds the weight decay before clipping.
            g = clipped(rescale .* grads[t] .+ wd .* w, clip)
            m = beta1 .* m .+ (1 - beta1) .* g
            v = beta2 .* v .+ (1 - beta2) .* g .^ 2
            lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
            w = w .- lr_t .* m ./ (sqrt.(v) .+ eps)
            @test steps[t] ≈ w rtol = 1e-5
        end
        @test state.t == 3
        @test copy(state.mean) ≈ m rtol = 1e-5
        @test copy(state.var) ≈ v rtol = 1e-4     # squares of Float32 gradients
    end

    @testset "sgd with momentum matches Julia" begin
        lr, momentum, wd, clip, rescale = 0.1, 0.9, 0.01, 1.0, 0.5
        steps, state = run_steps(mx.SGD(lr = lr, momentum = momentum, weight_decay = wd,
                                        grad_clip = clip, rescale_grad = rescale))
        w, mom = Float64.(w0), zeros(5)
        for t in 1:3
            mom = momentum .* mom .- lr .* (clipped(rescale .* grads[t], clip) .+ wd .* w)
            w = w .+ mom
            @test steps[t] ≈ w rtol = 1e-5
        end
        @test copy(state.mom) ≈ mom rtol = 1e-5
    end

    @testset "plain sgd, no clipping, a factor schedule" begin
        schedule = mx.FactorScheduler(2, 0.5; base_lr = 0.1)
        @test [mx.get_learning_rate(schedule, t) for t in 1:5] ≈ [0.1, 0.1, 0.05, 0.05, 0.025]
        @test mx.get_learning_rate(mx.FactorScheduler(1, 0.1; base_lr = 1, min_lr = 0.05), 4) == 0.05
        steps, state = run_steps(mx.SGD(lr_scheduler = schedule))
        @test state.mom === nothing
        w = Float64.(w0)
        for t in 1:3
            w = w .- mx.get_learning_rate(schedule, t) .* grads[t]   # grad 4.0 passes unclipped
            @test steps[t] ≈ w rtol = 1e-5
        end
        @test_throws mx.MXError mx.ADAM(lr = 0.1, lr_scheduler = schedule)
        @test mx.get_learning_rate(mx.ADAM().lr_scheduler, 1) == 0.001
    end

    @testset "exponential, cosine and warm-up schedules" begin
        lr(s, ts) = [mx.get_learning_rate(s, t) for t in ts]
        @test lr(mx.ExponentialScheduler(2, 0.25; base_lr = 1), 1:3) ≈ [1, 0.5, 0.25]
        @test lr(mx.ExponentialScheduler(1, 0.1; base_lr = 1, min_lr = 0.05), [4]) == [0.05]
        # From base_lr at the first update to final_lr at max_update, then flat.
        @test lr(mx.CosineScheduler(5; base_lr = 1, final_lr = 0.2), 1:7) ≈
              [1, 0.2 + 0.8 * (1 + cospi(0.25)) / 2, 0.6, 0.2 + 0.8 * (1 + cospi(0.75)) / 2, 0.2, 0.2, 0.2]
        warm = mx.WarmupScheduler(mx.FactorScheduler(2, 0.5; base_lr = 0.1), 4)
        @test lr(warm, 1:8) ≈ [0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.05, 0.05]
        @test_throws mx.MXError mx.ExponentialScheduler(0, 0.5; base_lr = 1)
        @test_throws mx.MXError mx.CosineScheduler(0; base_lr = 1)
    end

    @testset "states save and load" begin
        opt = mx.ADAM(lr = 0.01)
        _, state = run_steps(opt)
        file = joinpath(mktempdir(), "states.params")
        mx.save_states(file, opt, Dict(:fc_weight => state))
        @test sort(string.(collect(keys(mx.load(file, mx.NDArray))))) ==
              ["count:fc_weight", "mean:fc_weight", "var:fc_weight"]
        loaded = mx.load_states(file, opt)[:fc_weight]
        @test loaded.t == 3
        @test copy(loaded.mean) == copy(state.mean) && copy(loaded.var) == copy(state.var)
        fresh = mx.create_state(opt, 1, mx.zeros(5))
        mx.copy_state!(fresh, loaded)
        @test fresh.t == 3 && copy(fresh.var) == copy(state.var)
        @test_throws mx.MXError mx.load_states(file, mx.SGD(momentum = 0.9))

        sgd = mx.SGD(momentum = 0.9)
        _, sgd_state = run_steps(sgd)
        mx.save_states(file, sgd, Dict(:w => sgd_state))
        @test copy(mx.load_states(file, sgd)[:w].mom) == copy(sgd_state.mom)
    end
end

@testset "an optimizer travels as data" begin
    # What a dist_async job's worker 0 sends its servers: rebuilt from names and numbers only.
    travelled(opt) = mx.described(PyJLChar.JSON.parse_json(PyJLChar.JSON.json(mx.describe(opt))))
    for opt in (mx.ADAM(lr_scheduler = mx.WarmupScheduler(mx.CosineScheduler(100; base_lr = 0.01, final_lr = 0.001), 5),
                        weight_decay = 1e-5, grad_clip = 1.0, rescale_grad = 1 / 32),
                mx.SGD(lr = 0.1, momentum = 0.9),
                mx.SGD(lr_scheduler = mx.FactorScheduler(10, 0.5; base_lr = 0.1, min_lr = 0.01)),
                mx.ADAM(lr_scheduler = mx.ExponentialScheduler(10, 0.5; base_lr = 0.1)))
        back = travelled(opt)
        @test typeof(back) == typeof(opt)
        @test mx.describe(back) == mx.describe(opt)
        @test all(mx.get_learning_rate(back.lr_scheduler, t) == mx.get_learning_rate(opt.lr_scheduler, t) for t in 1:50)
    end
    for bad in ("[1]", "{\"type\": \"Main.evil\"}", "{\"type\": \"sgd\", \"momentum\": \"x\"}",
                "{\"type\": \"warmup\", \"schedule\": {\"type\": \"fixed\", \"lr\": 0.1}, \"warmup\": -1}")
        @test_throws mx.MXError mx.described(PyJLChar.JSON.parse_json(bad))
    end
end
