import Foundation
import Testing
@testable import TerrainReport

/// The figure index page: a bare grid for `terrain plot --index`, titled sections with links to
/// each for the demo's page of several models.
@Suite("Figure index")
struct FigureIndexTests {
    let cnn = [FigureIndex.Entry(name: "surface_train_loss_2dcontour", caption: "train loss: contour lines",
                                 files: ["surface_train_loss_2dcontour.png", "surface_train_loss_2dcontour.svg"]),
               FigureIndex.Entry(name: "evolve", caption: "through training", files: ["evolve.gif", "evolve.mp4"])]
    let gpt = [FigureIndex.Entry(name: "gpt-surface_train_perplexity_2dheat", caption: "train perplexity <exp of the loss>",
                                 files: ["gpt/gpt-surface_train_perplexity_2dheat.png"])]

    @Test func oneSectionIsABareGrid() {
        let html = FigureIndex.html(sections: [FigureIndex.Section(entries: cnn)], title: "figures", links: [])
        #expect(html.contains("<h1>figures</h1>") && !html.contains("<h2") && !html.contains("<nav>"))
        #expect(html.contains("<img src=\"surface_train_loss_2dcontour.png\""))
        // An animation is shown as itself (no PNG of it), its video linked.
        #expect(html.contains("<img src=\"evolve.gif\"") && html.contains("<a href=\"evolve.mp4\">MP4</a>"))
    }

    @Test func sectionsHaveTitlesAndLinksAtTheTop() throws {
        let html = FigureIndex.html(sections: [FigureIndex.Section(title: "A CNN", note: "its figures", entries: cnn),
                                               FigureIndex.Section(title: "A GPT", entries: gpt)],
                                    title: "demo", links: [FigureIndex.Link(text: "the viewer", target: "../report.html")])
        let nav = try #require(html.range(of: "<nav>"))
        let first = try #require(html.range(of: "<h2 id=\"section-1\">A CNN</h2>"))
        let second = try #require(html.range(of: "<h2 id=\"section-2\">A GPT</h2>"))
        #expect(nav.lowerBound < first.lowerBound && first.lowerBound < second.lowerBound)
        #expect(html.contains("<a href=\"../report.html\"><b>the viewer</b></a>"))
        #expect(html.contains("<a href=\"#section-1\">A CNN</a>") && html.contains("<a href=\"#section-2\">A GPT</a>"))
        #expect(html.contains("<p>its figures</p>"))
        // Figures in a subfolder keep their relative paths; captions are escaped.
        #expect(html.contains("<img src=\"gpt/gpt-surface_train_perplexity_2dheat.png\""))
        #expect(html.contains("train perplexity &lt;exp of the loss&gt;"))
    }
}
