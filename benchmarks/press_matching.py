"""Benchmark: candidate names in news text with one Aho-Corasick automaton vs a regex per name.

2,000 synthetic candidates, each with a Chinese name, a pinyin name and (every 3rd) a
Japanese katakana or Korean hangul name, against N synthetic ~3 KB articles (English
filler with CJK sentences mixed in, and some names planted). Prints articles/s at 25k,
50k and 100k articles (linear growth = constant articles/s), then the naive baseline (one
compiled regex per alias, searched over each article: what one would write first) on a
sample, and the ratio.

    python benchmarks/press_matching.py                 # 100,000 articles
    python benchmarks/press_matching.py --articles 20000 --sample 300
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from enrichment.press import NameMatcher, fold  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩凯健俊帆帅旭宁琦佳欣怡梓涵诗雨晨泽"
PINYIN = {c: p for c, p in zip(SURNAMES + GIVEN, [
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu", "guo",
    "he", "gao", "lin", "luo", "zheng", "liang", "xie", "song", "tang", "xu", "han", "feng", "deng", "cao", "peng",
    "zeng", "xiao", "tian", "dong", "yuan", "pan", "yu", "jiang", "cai", "yu", "du", "ye", "cheng", "su", "wei", "lv",
    "ding", "ren", "shen", "yao", "lu", "jiang", "cui", "zhong", "tan", "lu", "wang", "fan", "jin", "shi", "liao", "jia",
    "xia", "wei", "fu", "fang", "bai", "zou", "meng", "xiong", "qin", "qiu", "jiang", "yin", "xue", "yan", "duan", "lei",
    "hou", "long", "shi", "tao", "li", "he", "gu", "mao", "hao", "gong", "shao", "wan", "qian", "yan", "qin", "wu", "dai",
    "mo", "kong", "xiang", "tang",
] + ["wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie", "juan", "tao", "ming",
     "chao", "xiu", "xia", "ping", "gang", "gui", "ying", "hua", "yu", "ping", "hong", "e", "ling", "fen", "yan", "bin",
     "peng", "hui", "yu", "hao", "kai", "jian", "jun", "fan", "shuai", "xu", "ning", "qi", "jia", "xin", "yi", "zi",
     "han", "shi", "yu", "chen", "ze"])}
KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
HANGUL = "가나다라마바사아자차카타파하김이박최정강조윤장임한오서신권황안송류홍"
WORDS = ("the market brand shopping import review creator video live new season launch price store fans "
         "according report said company week city people global trend beauty fashion food travel").split()
CJK_SENTENCES = ["今天的直播间非常热闹，很多粉丝在线购买进口商品。", "海外ブランドの新商品が話題になっています。",
                 "해외 브랜드 신제품이 화제가 되고 있습니다。", "這款產品在台灣也很受歡迎。"]


def make_names(count: int, rng: random.Random) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    seen: set[str] = set()
    while len(names) < count:
        surname = rng.choice(SURNAMES)
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        chinese = surname + given
        if chinese in seen:
            continue
        seen.add(chinese)
        pinyin = f"{PINYIN[surname].title()} {''.join(PINYIN[c] for c in given).title()}"
        aliases = [chinese, pinyin]
        if len(names) % 3 == 0:
            aliases.append("".join(rng.choice(KATAKANA) for _ in range(4)))
        elif len(names) % 3 == 1:
            aliases.append("".join(rng.choice(HANGUL) for _ in range(3)))
        names[len(names)] = aliases
    return names


def make_articles(count: int, names: dict[int, list[str]], rng: random.Random, size: int = 3000) -> list[str]:
    all_aliases = [a for aliases in names.values() for a in aliases]
    articles = []
    for _ in range(count):
        parts: list[str] = []
        length = 0
        while length < size:
            roll = rng.random()
            if roll < 0.08:
                piece = rng.choice(CJK_SENTENCES)
            elif roll < 0.09:
                piece = rng.choice(all_aliases)  # a planted name
            else:
                piece = " ".join(rng.choice(WORDS) for _ in range(12)) + "."
            parts.append(piece)
            length += len(piece) + 1
        articles.append(" ".join(parts))
    return articles


def naive_matches(patterns: list[tuple[int, re.Pattern[str]]], text: str) -> set[int]:
    """One regex per alias: \\b around Latin names, no katakana around katakana ones, nothing
    around other CJK ones; case-insensitive."""
    folded = fold(text)
    return {owner for owner, pattern in patterns if pattern.search(folded)}


def naive_patterns(names: dict[int, list[str]]) -> list[tuple[int, re.Pattern[str]]]:
    patterns = []
    for owner, aliases in names.items():
        for alias in aliases:
            key = re.escape(fold(alias))
            if alias.isascii():
                key = rf"(?<![0-9a-z]){key}(?![0-9a-z])"
            elif "\u30a1" <= alias[0] <= "\u30fc":  # katakana: no katakana either side (enrichment.press)
                key = rf"(?<![\u30a1-\u30fa\u30fc]){key}(?![\u30a1-\u30fa\u30fc])"
            patterns.append((owner, re.compile(key)))
    return patterns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, default=2000)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=500, help="articles for the naive baseline")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    names = make_names(args.names, rng)
    aliases = sum(len(a) for a in names.values())
    started = time.perf_counter()
    matcher = NameMatcher(names)
    build = time.perf_counter() - started
    print(f"{args.names:,} candidates, {aliases:,} aliases ({matcher.size:,} searched); automaton built in {build:.2f} s")

    started = time.perf_counter()
    articles = make_articles(args.articles, names, rng)
    mean = sum(len(a) for a in articles) / len(articles)
    print(f"{len(articles):,} synthetic articles of {mean:,.0f} characters generated in {time.perf_counter() - started:.1f} s")

    checkpoints = sorted({n for n in (args.articles // 4, args.articles // 2, args.articles) if n})
    found = 0
    started = time.perf_counter()
    done = 0
    for checkpoint in checkpoints:
        for text in articles[done:checkpoint]:
            found += len(matcher.owners_in(text))
        done = checkpoint
        elapsed = time.perf_counter() - started
        print(f"  Aho-Corasick: {checkpoint:>7,} articles in {elapsed:7.2f} s  = {checkpoint / elapsed:9,.0f} articles/s"
              f"  ({found:,} candidate hits)")
    fast_rate = done / (time.perf_counter() - started)

    sample = articles[: args.sample]
    patterns = naive_patterns(names)
    started = time.perf_counter()
    naive = [naive_matches(patterns, text) for text in sample]
    naive_elapsed = time.perf_counter() - started
    naive_rate = len(sample) / naive_elapsed
    agree = all(naive_set == matcher.owners_in(text) for naive_set, text in zip(naive, sample))
    print(f"  naive regex loop ({len(patterns):,} patterns): {len(sample):,} articles in {naive_elapsed:.2f} s"
          f" = {naive_rate:,.0f} articles/s; same hits as Aho-Corasick: {agree}")
    print(f"ratio: Aho-Corasick is {fast_rate / naive_rate:,.0f}x the naive loop")


if __name__ == "__main__":
    main()
