"""Queries per domain and a profile factory for the simulator tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgebench.sim.profiles import Profile, parse_profile

QUERIES: dict[str, list[str]] = {
    "writing": [
        "Compose an engaging travel blog post about a recent trip to Hawaii, highlighting cultural experiences.",
        "Write a short poem about autumn leaves falling in an empty park.",
        "Draft a persuasive essay arguing that public libraries deserve more funding.",
        "Write a cover letter for a junior data analyst position at a logistics company.",
        "Rewrite this paragraph in a more formal tone: the meeting was kinda pointless and way too long.",
        "Write a short story about a lighthouse keeper who finds a message in a bottle.",
        "Compose a wedding speech for my sister, warm and funny, under three minutes.",
        "Write a product review of noise-cancelling headphones for a tech blog.",
    ],
    "roleplay": [
        "Pretend you are a pirate captain and greet your crew before a storm.",
        "Act as a medieval innkeeper welcoming a tired knight to the tavern.",
        "Imagine you are a detective interrogating a suspect about a stolen necklace.",
        "You are a wizard teaching an apprentice the first rule of fire magic. Stay in character.",
        "Roleplay as a spaceship captain reporting an alien signal to mission control.",
        "Pretend to be a grumpy dragon guarding treasure who is asked for directions.",
        "Act as a game master and describe the dungeon entrance to the adventurers.",
        "Imagine you're a sheriff in a frontier town confronting a gang of outlaws.",
    ],
    "knowledge": [
        "Explain the causes of the French Revolution and its impact on European politics.",
        "What is the difference between mitosis and meiosis in cell biology?",
        "Describe how the greenhouse effect influences the global climate.",
        "Give an overview of the history of the Roman Empire's decline.",
        "Compare the economic theories of Keynes and Hayek.",
        "Explain how vaccines train the immune system, with examples.",
        "What were the main effects of the printing press on European culture?",
        "Describe the geography and climate of the Andes mountains.",
    ],
    "coding": [
        "Write a Python function that merges two sorted lists into one sorted list.",
        "How do I reverse a linked list in Java? Show the code.",
        "Implement a binary search function in JavaScript and explain its complexity.",
        "Write a SQL query that returns the top five customers by total order value.",
        "Debug this Python code: def add(a, b) return a + b — why does it raise a syntax error?",
        "Implement an LRU cache class in Python with get and put methods.",
        "Write a bash script that counts the lines of every .py file in a directory.",
        "Refactor a recursive Fibonacci function in Rust to run in linear time.",
    ],
    "mathematics": [
        "Benjamin bought 5 copies of a novel at $20 each and 3 books at $30 each. What is the total cost?",
        "Solve the equation 3x + 7 = 22 for x.",
        "What is the probability of rolling two sixes with two fair dice?",
        "Calculate the area of a triangle with base 12 and height 9.",
        "Find the sum of all prime numbers below 30.",
        "A train travels 180 km in 2 hours. What is its average speed in km per hour?",
        "Compute the derivative of x^3 + 4x^2 - 5 with respect to x.",
        "How many ways can 4 people be seated in a row of 4 chairs?",
    ],
    "reasoning": [
        "If all bloops are razzies and all razzies are lazzies, are all bloops lazzies? Explain the logic.",
        "Alice is older than Bob, and Bob is older than Carol. Who is the youngest? Deduce it step by step.",
        "A is the father of B and B is the father of C. What is the relationship between A and C?",
        "Which word does not belong with the others: tyre, steering wheel, car, engine? Explain the pattern.",
        "Solve this riddle: what has keys but can't open locks?",
        "In a race you overtake the second person. What position are you in now? Reason it out.",
        "Knights always tell the truth and knaves always lie. A says B is a knave. B says both are knights. Deduce who is who.",
        "Find the next number in the sequence 2, 6, 12, 20, 30 and explain the pattern.",
    ],
}


def make_profile(name: str = "t", **fields) -> Profile:
    return parse_profile({"name": name, **fields}, Path(f"{name}.yaml"))


def flat_profile(name: str, skill: float, **fields) -> Profile:
    skills = dict.fromkeys(QUERIES, skill)
    return make_profile(name, skills=skills, **fields)


@pytest.fixture
def queries() -> dict[str, list[str]]:
    return QUERIES
