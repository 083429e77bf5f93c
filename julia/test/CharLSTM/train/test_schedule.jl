@testset "make_optimizer's schedules" begin
    lr(s, steps, t) = mx.get_learning_rate(CharLSTM.make_optimizer(s, steps).lr_scheduler, t)
    @test lr(test_settings(), 100, 50) == 0.01
    step = test_settings(lr_schedule = :step, lr_step = 10, lr_factor = 0.5, min_lr = 0.003)
    @test [lr(step, 100, t) for t in (1, 10, 11, 21, 31)] ≈ [0.01, 0.01, 0.005, 0.003, 0.003]
    cosine = test_settings(lr_schedule = :cosine, warmup = 10, min_lr = 0.001)
    @test lr(cosine, 110, 5) ≈ 0.005 && lr(cosine, 110, 11) ≈ 0.01 && lr(cosine, 110, 110) ≈ 0.001
    @test lr(test_settings(lr_schedule = :exponential, lr_step = 10, lr_factor = 0.5), 100, 6) ≈ 0.01 * 0.5^0.5
    @test CharLSTM.make_optimizer(test_settings(optimizer = :sgd), 10) isa mx.SGD
    @test CharLSTM.make_optimizer(test_settings(), 10) isa mx.ADAM
    # A floor at or above the rate is refused with both figures (each alone is within its rule).
    msg = user_error(() -> CharLSTM.make_optimizer(test_settings(min_lr = 0.02), 10))
    @test occursin("'min_lr' in [train] (0.02) must be below learning_rate (0.01)", msg)
    @test_throws PyJLChar.UserError test_settings(warmup = -1)
    @test_throws PyJLChar.UserError run_policy(keep_best = 0)
end

@testset "differing_setting: the first field a resumed run changes" begin
    @test CharLSTM.differing_setting(test_settings(), test_settings()) === nothing
    @test CharLSTM.differing_setting(test_settings(seed = 2, warmup = 3), test_settings()) == (:seed, 1, 2)
    @test CharLSTM.differing_setting(data_settings(corpus = ["a", "b"]), data_settings(corpus = ["a", "b"])) === nothing
    @test CharLSTM.differing_setting(data_settings(corpus = ["a"]), data_settings(corpus = "a")) == (:corpus, "a", ["a"])
end
