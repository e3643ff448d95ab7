"""The toy VM's language, command line and error handling."""
import pytest

from conftest import run_toyvm


def write(tmp_path, text, name="prog.tvm"):
    p = tmp_path / name
    p.write_text(text)
    return p


LANG_PROGRAM = r'''
# arithmetic, floor division and modulo like Python
print(7 / 2, -7 / 2, 7 % 3, -7 % 3, 7 % -3, 2 + 3 * 4 - (1 - 5))
print(1 < 2, 2 <= 1, 3 == 3, 3 != 3, not 0, not 5)
print(0 or 7, 3 and 4, 0 and 1 / 0, 1 or 1 / 0)

def fib(n)
    if n < 2
        return n
    end
    return fib(n - 1) + fib(n - 2)
end

def classify(x)
    if x < 0
        return -1
    elif x == 0
        return 0
    else
        return 1
    end
end

total = 0
def add(n)
    global total
    total += n
    return total
end

def loops()
    s = 0
    i = 0
    while 1
        i += 1
        if i % 2 == 0
            continue
        end
        if i > 9
            break
        end
        s += i
    end
    return s
end

def worker(a, b)
    return a * b
end

print("fib", fib(15))
print(classify(-5), classify(0), classify(9))
add(5); add(6)
print("total", total)
print("loops", loops())
h = spawn(worker, 6, 7)
print("joined", join(h))
print("args", argc(), arg(0), arg(1, 99), arg(5, -1))
x = 10
x -= 3
print("x", x, "neg", -x, "big", 9_000_000_000 * 2)
t0 = clock()
sleep(2)
usleep(1000)
print("slept", clock() - t0 >= 3_000_000)
print("tid", tid() > 0)
print()
print("tab\tq\"uote\\")
'''

LANG_EXPECTED = """3 -4 1 2 -2 18
1 0 1 0 1 0
7 4 0 1
fib 610
-1 0 1
total 11
loops 25
joined 42
args 2 5 8 -1
x 7 neg -7 big 18000000000
slept 1
tid 1

tab\tq"uote\\
"""


def test_language_features(toyvm, tmp_path):
    p = write(tmp_path, LANG_PROGRAM)
    r = toyvm([p, "5", "8"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == LANG_EXPECTED
    assert r.stderr == ""


def test_main_waits_for_unjoined_threads(toyvm, tmp_path):
    p = write(tmp_path, """
def late()
    sleep(50)
    print("late thread done")
end
spawn(late)
print("main done")
""")
    r = toyvm([p])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "main done\nlate thread done\n"


def test_setname_names_the_thread(toyvm, tmp_path):
    p = write(tmp_path, """
def w()
    setname("worker")
    return 0
end
join(spawn(w))
""")
    r = toyvm(["--gil-stats", p])
    assert r.returncode == 0, r.stderr
    assert '"name": "worker"' in r.stderr
    assert '"name": "main"' in r.stderr


SYNTAX_ERRORS = [
    ("x = 1\ndef f(a)\n    return a +\nend\n",
     "3:15: expected expression, found end of line"),
    ("while 1\n  x = 1\n", "3:1: expected 'end', found end of file"),
    ("x = @\n", "1:5: unexpected character '@'"),
    ('print("abc\n', '1:7: unterminated string'),
    ("print(1)\nfoo(2)\n", "2:1: unknown function 'foo'"),
    ("def f(a, b)\nend\nf(1)\n", "3:1: 'f' takes 2 arguments, got 1"),
    ("def f(a, a)\nend\n", "1:10: duplicate parameter 'a'"),
    ("def f()\nend\ndef f()\nend\n", "3:5: function 'f' already defined"),
    ("if 1\n  def g()\n  end\nend\n",
     "2:3: 'def' is only allowed at the top level"),
    ("return 1\n", "1:1: 'return' outside a function"),
    ("break\n", "1:1: 'break' outside a loop"),
    ("x = 1 2\n", "1:7: expected end of line, found number 2"),
    ("x = (1 + 2\n", "2:1: expected ')', found end of file"),
    ("end\n", "1:1: unexpected 'end'"),
    ("x = \"s\"\n",
     "1:5: a string is only allowed as an argument of print, setname or connect"),
    ("sleep(1, 2)\n", "1:1: 'sleep' takes 1 argument, got 2"),
    ("print = 3\n", "1:1: cannot assign to builtin 'print'"),
    ("x = 1 < 2 < 3\n", "1:11: chained comparisons are not supported"),
    ("def f()\n    y += 1\nend\n",
     "2:5: 'y' is not a local variable here (assign it first, or declare it global)"),
    ("x = 99999999999999999999\n", "1:5: integer literal too large"),
    ("x = 12ab\n", "1:7: invalid character 'a' in number"),
]


@pytest.mark.parametrize("src,msg", SYNTAX_ERRORS)
def test_syntax_errors(toyvm, tmp_path, src, msg):
    p = write(tmp_path, src, "bad.tvm")
    r = toyvm([p])
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == f"toyvm: {p}:{msg}\n"


RUNTIME_ERRORS = [
    ("x = 0\nprint(10 / x)\n", "2:10: runtime error: division by zero"),
    ("x = 0\nprint(10 % x)\n", "2:10: runtime error: modulo by zero"),
    ("join(7)\n", "1:1: runtime error: join of bad thread handle 7"),
    ("join(0)\n", "1:1: runtime error: join of bad thread handle 0"),
    ("def f()\nend\nh = spawn(f)\njoin(h)\njoin(h)\n",
     "5:1: runtime error: thread 1 already joined"),
    ("print(y)\n", "1:7: runtime error: undefined variable 'y'"),
    ("def f(n)\n    return f(n + 1)\nend\nf(0)\n",
     "2:12: runtime error: stack overflow (recursion too deep)"),
    ("assert(1 == 2)\n", "1:1: runtime error: assertion failed"),
    ("print(arg(0))\n", "1:7: runtime error: missing argument 0"),
    ("sleep(-1)\n", "1:1: runtime error: bad sleep time -1"),
]


@pytest.mark.parametrize("src,msg", RUNTIME_ERRORS)
def test_runtime_errors(toyvm, tmp_path, src, msg):
    p = write(tmp_path, src, "bad.tvm")
    r = toyvm([p])
    assert r.returncode == 1
    assert r.stderr == f"toyvm: {p}:{msg}\n"


def test_runtime_error_in_thread_with_output_before(toyvm, tmp_path):
    p = write(tmp_path, "def f(x)\n    return 1 / x\nend\nprint(\"a\")\n"
              "join(spawn(f, 0))\nprint(\"b\")\n", "bad.tvm")
    r = toyvm([p])
    assert r.returncode == 1
    assert r.stdout == "a\n"
    assert r.stderr == f"toyvm: {p}:2:14: runtime error: division by zero\n"


def test_non_integer_argument(toyvm, tmp_path):
    p = write(tmp_path, "print(arg(0, 3))\n", "a.tvm")
    r = toyvm([p, "abc"])
    assert r.returncode == 1
    assert r.stderr == (f"toyvm: {p}:1:7: runtime error: argument 0 is not "
                        "an integer: 'abc'\n")


USAGE_ERRORS = [
    (["--gil=bogus", "P"],
     "toyvm: unknown GIL design 'bogus' (expected old, new, prio or fifo)"),
    (["--gil", "python4", "P"],
     "toyvm: unknown GIL design 'python4' (expected old, new, prio or fifo)"),
    (["--check-interval=abc", "P"],
     "toyvm: invalid --check-interval 'abc': expected an integer from 1 to 1000000000"),
    (["--check-interval=0", "P"],
     "toyvm: invalid --check-interval '0': expected an integer from 1 to 1000000000"),
    (["--switch-interval=5ms", "P"],
     "toyvm: invalid --switch-interval '5ms': expected an integer from 1 to 10000000"),
    (["--switch-interval", "-5", "P"],
     "toyvm: invalid --switch-interval '-5': expected an integer from 1 to 10000000"),
    (["--switch-interval=99999999999999999999", "P"],
     "toyvm: invalid --switch-interval '99999999999999999999': expected an integer from 1 to 10000000"),
    (["--frob", "P"], "toyvm: unknown option '--frob' (try --help)"),
    (["--gil-log"], "toyvm: option '--gil-log' needs a value"),
    ([], "toyvm: no program given (try --help)"),
    (["/nonexistent/prog.tvm"],
     "toyvm: cannot open '/nonexistent/prog.tvm': No such file or directory"),
    (["--gil-stats=/nonexistent/dir/s.json", "P"],
     "toyvm: cannot open '/nonexistent/dir/s.json': No such file or directory"),
]


@pytest.mark.parametrize("args,msg", USAGE_ERRORS)
def test_usage_errors(toyvm, tmp_path, args, msg):
    p = write(tmp_path, "print(1)\n")
    r = toyvm([str(p) if a == "P" else a for a in args])
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr == msg + "\n"


def test_directory_as_program(toyvm, tmp_path):
    r = toyvm([tmp_path])
    assert r.returncode == 2
    assert r.stderr == f"toyvm: cannot read '{tmp_path}': Is a directory\n"


def test_help_and_version(toyvm):
    r = toyvm(["--help"])
    assert r.returncode == 0
    assert r.stdout.startswith("usage: toyvm [options] PROGRAM [ARGS...]")
    for opt in ("--gil=old|new|prio|fifo", "--check-interval", "--switch-interval",
                "--gil-stats", "--gil-log", "--version"):
        assert opt in r.stdout
    r = toyvm(["--version"])
    assert r.returncode == 0
    assert r.stdout.startswith("toyvm ")


def test_program_args_after_program_are_not_options(toyvm, tmp_path):
    p = write(tmp_path, "print(argc(), arg(0))\n")
    r = toyvm(["--gil=old", p, "-5"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1 -5\n"
