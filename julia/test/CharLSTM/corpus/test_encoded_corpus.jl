# Corpora encoded once into the cache and read from the memory map: the same characters, ids
# and batches as the text in memory, errors named by byte offset, and a cache that is never
# trusted half done.
@testset "encoded corpus" begin
    dir = mktempdir()
    file(name, content) = (path = joinpath(dir, name); write(path, content); path)
    encoded(files, cache = joinpath(dir, "cache"); kw...) = quiet(() -> CharLSTM.encoded_corpus(files, cache; kw...))
    entries(cache) = filter(name -> isdir(joinpath(cache, name)), readdir(cache))
    text_identity(text) = CharLSTM.CorpusIdentity(length(text), bytes2hex(CharLSTM.SHA.sha256(text)))

    @testset "UTF-8 decoded as Julia judges it, whatever the chunk boundaries" begin
        # Bytes that make valid characters of 1 to 4 bytes, overlong forms, surrogates,
        # code points past U+10FFFF, stray and missing continuation bytes.
        pool = [0x61, 0x0a, 0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0xbf,
                0xc0, 0xc1, 0xe0, 0x80, 0xf4, 0x90, 0x8f, 0xf5, 0xff]
        rng = Random.MersenneTwister(7)
        agree = true
        for trial in 1:3000
            bytes = rand(rng, pool, rand(rng, 1:24))
            path = file("random.bin", bytes)
            text = String(copy(bytes))
            got = try
                codepoints = UInt32[]
                chunks = CharLSTM.TextChunks(path, "f", length(bytes); chunk_bytes = rand(rng, 4:9))
                CharLSTM.for_each_chunk((c, _) -> append!(codepoints, c), chunks)
                codepoints
            catch e
                e isa PyJLChar.UserError || rethrow()
                parse(Int, match(r"at offset (\d+)\)", e.msg).captures[1])
            end
            starts = collect(eachindex(text))
            expected = isvalid(text) ? UInt32.(collect(text)) : starts[findfirst(i -> !isvalid(text[i]), starts)] - 1
            agree &= got == expected
        end
        @test agree
    end

    @testset "the first bad byte named by its offset, a NUL byte called binary" begin
        msg = user_error(() -> encoded([file("latin1.txt", UInt8[0x6e, 0x61, 0xef, 0x76, 0x65])]))
        @test occursin("corpus file $(joinpath(dir, "latin1.txt")) is not UTF-8 (byte 0xef at offset 2)", msg)
        @test occursin("iconv", msg)
        msg = user_error(() -> encoded([file("bin.dat", UInt8[0x61, 0x62, 0x63, 0x00, 0x01])]; what = "text file"))
        @test occursin("text file", msg) && occursin("looks binary (NUL byte at offset 3)", msg)
        # In the middle of a large file, several chunks in.
        good = "ab✓"^1_000_000
        msg = user_error(() -> encoded([file("big.txt", good * String(UInt8[0xff]) * "cd")]))
        @test occursin("(byte 0xff at offset $(sizeof(good)))", msg)
        # A character cut off at the end of a file.
        @test occursin("offset 3", user_error(() -> encoded([file("cut.txt", UInt8[0x61, 0x62, 0x63, 0xe2, 0x9c])])))
        @test !isdir(joinpath(dir, "cache")) || isempty(readdir(joinpath(dir, "cache")))   # nothing half done
    end

    @testset "ids of the text's own vocabulary, memory-mapped, in the smallest type" begin
        text = "héllo wörld ✓ 日本\nthe quick brown fox\n"^50 * "no newline at the end"
        corpus = encoded([file("small.txt", text)])
        @test corpus isa CharLSTM.EncodedCorpus{UInt8}
        @test corpus.vocab.chars == CharLSTM.build_vocabulary(text).chars
        @test String(corpus.vocab.chars[corpus.ids .+ 1]) == text
        @test corpus.counts == [count(==(c), text) for c in corpus.vocab.chars]
        @test corpus.identity == text_identity(text)   # what run metas recorded before encoding existed
        @test corpus.bytes == sizeof(text) && corpus.lines == 101
        @test filesize(joinpath(corpus.folder, "ids.bin")) == length(text)
        wide = join(Char.(0x4e00:0x4e00+299))   # 300 distinct characters
        @test encoded([file("wide.txt", wide)]).ids == UInt16.(0:299)
    end

    @testset "encoded once; a changed file encoded again, its stale entry removed" begin
        cache = joinpath(dir, "once")
        path = file("corpus.txt", "abc abc\n"^100)
        first_use = encoded([path], cache)
        @test first_use.encode_seconds isa Float64
        again = encoded([path], cache)
        @test again.encode_seconds === nothing && again.folder == first_use.folder
        @test entries(cache) == [basename(first_use.folder)]
        write(path, "cab cab\n"^100)   # same size, same characters, written at once
        changed = encoded([path], cache)
        @test changed.folder != first_use.folder && changed.encode_seconds isa Float64
        @test String(changed.vocab.chars[changed.ids .+ 1]) == "cab cab\n"^100
        @test changed.identity != first_use.identity
        @test entries(cache) == [basename(changed.folder)]
        # An entry whose file is gone goes when the next one is written.
        gone = file("gone.txt", "temporary text\n")
        gone_folder = encoded([gone], cache).folder
        rm(gone)
        encoded([file("other.txt", "other text\n")], cache)
        @test !isdir(gone_folder) && isdir(changed.folder)
    end

    @testset "several files: their concatenation, in the order given" begin
        parts = ["First part.\n", "Zweiter Teil: ü\n", "third ✓"]
        paths = [file("part$i.txt", p) for (i, p) in enumerate(parts)]
        corpus = encoded(paths)
        @test String(corpus.vocab.chars[corpus.ids .+ 1]) == join(parts)
        @test corpus.identity == text_identity(join(parts)) && corpus.files == paths
        @test encoded(reverse(paths)).folder != corpus.folder
        msg = user_error(() -> encoded([paths[1], file("bad-second.txt", UInt8[0x61, 0xff])]))
        @test occursin("bad-second.txt is not UTF-8 (byte 0xff at offset 1)", msg)   # the offset in that file
    end

    @testset "a corpus that changes while it is encoded is refused, nothing cached" begin
        cache = joinpath(dir, "changing")
        path = file("changing.txt", "stable text\n"^1000)
        # The file is rewritten between the two passes, as by a writer racing the encoder.
        rewrite(event; fields...) = event == "task" && occursin("pass 1", fields[:what]) &&
                                    fields[:done] == fields[:total] && write(path, "other words\n"^1000)
        msg = user_error(() -> encoded([path], cache; hooks = CharLSTM.Hooks(progress = rewrite)))
        @test occursin("corpus file $path changed while it was being read", msg)
        @test isempty(readdir(cache))
    end

    @testset "another process that published the same entry first wins; ours is dropped" begin
        cache = joinpath(dir, "race")
        path = file("race.txt", "racing text\n"^100)
        theirs = encoded([path], joinpath(dir, "elsewhere"))   # the same key: the other process's entry
        target = joinpath(cache, basename(theirs.folder))
        # It appears while this process finishes its own pass 2.
        publish_theirs(event; fields...) = event == "task" && occursin("pass 2", fields[:what]) &&
                                           fields[:done] == fields[:total] && cp(theirs.folder, target)
        ours = encoded([path], cache; hooks = CharLSTM.Hooks(progress = publish_theirs))
        @test ours.folder == target && readdir(cache) == [basename(target)]   # no temporary folder left
        @test String(ours.vocab.chars[ours.ids .+ 1]) == "racing text\n"^100
    end

    @testset "a full disk: one sentence, no entry, no temporary folder" begin
        mounted = with_tmpfs("1m") do cache
            path = file("large.txt", "a large enough text\n"^60_000)   # 1.2 MB of ids
            msg = user_error(() -> encoded([path], cache))
            @test occursin("cannot write $cache/large-", msg) && occursin("the disk is full", msg)
            @test isempty(readdir(cache))
        end
        mounted || @test_skip mounted
    end

    @testset "a killed writer's temporary folder is cleared, a live one's kept" begin
        cache = joinpath(dir, "temps")
        mkpath(cache)
        dead_pid = parse(Int, read(`sh -c 'echo $$'`, String))   # a process that has ended
        mkdir(joinpath(cache, ".x-0123.tmp$(dead_pid)"))
        mkdir(joinpath(cache, ".y-4567.tmp$(getpid())"))
        encoded([file("fresh.txt", "fresh text\n")], cache)
        @test !isdir(joinpath(cache, ".x-0123.tmp$(dead_pid)")) && isdir(joinpath(cache, ".y-4567.tmp$(getpid())"))
    end

    @testset "a damaged entry is encoded again, with a warning, and gives the same ids" begin
        cache = joinpath(dir, "damaged")
        text = "some text\n"
        corpus = encoded([file("damaged.txt", text)], cache)
        ids, folder = copy(corpus.ids), corpus.folder
        ids_file, info_file = joinpath(folder, "ids.bin"), joinpath(folder, "corpus.json")
        damages = ("ids.bin cut short" => () -> write(ids_file, "short"),
                   "an id past the vocabulary" => () -> write(ids_file, fill(0xfe, length(ids))),
                   "corpus.json not JSON" => () -> write(info_file, "{ not json"),
                   "corpus.json without its vocabulary" => () -> write(info_file, replace(read(info_file, String), "\"vocab\"" => "\"vocabulary\"")))
        for (what, damage!) in damages
            corpus = nothing; GC.gc()   # the memory map of the ids let go before they are rewritten
            damage!()
            again = @test_logs((:warn, r"the encoded corpus in .* was damaged .*: encoding it again"), match_mode = :any,
                               CharLSTM.encoded_corpus([joinpath(dir, "damaged.txt")], cache))
            @test again.folder == folder && again.ids == ids
            corpus = again
        end
    end

    @testset "the memory map gives the same batches as the text in memory" begin
        text = repeat("Ünïcödé ✓ — the quick brown fox jumps over the lazy dog.\n", 40)
        corpus = encoded([file("batches.txt", text)])
        vocab = CharLSTM.build_vocabulary(text)
        data, settings = data_settings(train_ratio = 0.8), test_settings(seq_len = 7, batch_size = 5)
        for graph in (:unrolled, :fused)
            spec = spec_for(CharLSTM.n_class(vocab); graph = graph)
            mapped = CharLSTM.lstm_data(spec, data, settings, vocab, corpus)
            train_text, val_text = CharLSTM.split_text(text, data.train_ratio)
            in_memory = [CharLSTM.CharSeqProvider(part, 5, 7, vocab, spec) for part in (train_text, val_text)]
            for (new, old) in zip(mapped, in_memory)
                arrays(p) = [[copy.(b.data); copy.(b.label)] for b in mx.eachbatch(p)]
                @test length(mx.eachbatch(new)) == length(mx.eachbatch(old)) > 0
                @test arrays(new) == arrays(old)
            end
        end
    end

    @testset "another vocabulary: its classes, unknown for what it lacks" begin
        run_vocab = CharLSTM.build_vocabulary("abc ")
        corpus = encoded([file("new.txt", "cab xab")])
        @test CharLSTM.class_map(corpus.vocab, run_vocab)[corpus.ids .+ 1] == CharLSTM.encode(run_vocab, "cab xab")
    end

    @testset "corpus_summary: counts, split and cache state" begin
        text = "aab\nccc\n"
        corpus = encoded([file("summary.txt", text)])
        s = CharLSTM.corpus_summary(corpus, 0.75)
        @test s["characters"] == 8 && s["bytes"] == 8 && s["lines"] == 2
        @test s["frequencies"] == [["c", 3], ["\n", 2], ["a", 2], ["b", 1]]   # ties in code-point order
        @test s["train_characters"] == 6 && s["validation_characters"] == 2
        @test s["cache"]["folder"] == corpus.folder && s["cache"]["id_type"] == "UInt8" && s["cache"]["bytes"] == 8
    end
end
