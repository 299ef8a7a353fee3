from setuptools import find_packages, setup

setup(
    name="snorky",
    version="0.1.0",
    description="A real-time server for web applications, built on Twisted",
    long_description=open("README.rst", encoding="utf-8").read(),
    long_description_content_type="text/x-rst",
    license="MPL-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["snorky", "snorky.*"]) + ["twisted.plugins"],
    package_data={"snorky": ["py.typed", "static/*"]},
    install_requires=[
        "twisted>=23.10",
        "autobahn>=23.1",
        "klein>=23.5",
        "treq>=23.11",
    ],
    extras_require={
        "test": ["hypothesis>=6.0", "django>=4.2", "mypy>=1.10", "mypy-zope>=1.0"],
        "django": ["django>=4.2"],
        "doc": ["sphinx>=7.0", "django>=4.2"],
    },
    classifiers=[
        "Framework :: Twisted",
        "Programming Language :: Python :: 3",
    ],
)
