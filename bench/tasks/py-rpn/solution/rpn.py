import operator
import sys

OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def evaluate(expr):
    stack = []
    for token in expr.split():
        if token in OPS:
            if len(stack) < 2:
                raise ValueError(f"{token} needs two numbers")
            b, a = stack.pop(), stack.pop()
            if token == "/" and b == 0:
                raise ValueError("division by zero")
            stack.append(OPS[token](a, b))
        else:
            try:
                stack.append(float(token))
            except ValueError:
                raise ValueError(f"unknown token {token!r}") from None
    if len(stack) != 1:
        raise ValueError(f"{len(stack)} numbers left on the stack")
    return stack[0]


def main():
    try:
        value = evaluate(" ".join(sys.argv[1:]))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(int(value) if value == int(value) else repr(value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
